import { makeStyles, Text, tokens } from '@fluentui/react-components';
import type { ReactNode } from 'react';

export const useLayout = makeStyles({
  section: { marginBottom: tokens.spacingVerticalXXL },
  row: { display: 'flex', gap: tokens.spacingHorizontalM, alignItems: 'end', flexWrap: 'wrap' },
  cards: {
    display: 'flex',
    gap: tokens.spacingHorizontalM,
    flexWrap: 'wrap',
    marginBottom: tokens.spacingVerticalL,
  },
  card: {
    padding: tokens.spacingHorizontalM,
    minWidth: '150px',
    borderRadius: tokens.borderRadiusMedium,
    border: `1px solid ${tokens.colorNeutralStroke2}`,
    backgroundColor: tokens.colorNeutralBackground1,
  },
  steps: { margin: 0, paddingLeft: tokens.spacingHorizontalL },
  id: { overflowWrap: 'anywhere' },
  mono: { fontFamily: tokens.fontFamilyMonospace, fontSize: tokens.fontSizeBase200, wordBreak: 'break-all' },
});

export function Section(props: { title: string; children: ReactNode; actions?: ReactNode }) {
  const s = useLayout();
  return (
    <section className={s.section} aria-label={props.title}>
      <div className={s.row} style={{ justifyContent: 'space-between', marginBottom: 8 }}>
        <Text as="h2" size={500} weight="semibold">
          {props.title}
        </Text>
        {props.actions}
      </div>
      {props.children}
    </section>
  );
}

export function Count(props: { label: string; value: number | string }) {
  const s = useLayout();
  return (
    <div className={s.card}>
      <Text as="p" size={700} weight="bold" block style={{ margin: 0 }}>
        {props.value}
      </Text>
      <Text as="p" size={200} block style={{ margin: 0 }}>
        {props.label}
      </Text>
    </div>
  );
}

/** A view's heading. */
export function PageTitle(props: { children: ReactNode }) {
  return (
    <Text as="h1" size={700} weight="semibold" block style={{ marginBottom: 16 }}>
      {props.children}
    </Text>
  );
}

/** A form whose submit runs `onSubmit` in place of the browser's page load. */
export function SubmitForm(props: { onSubmit: () => void; className?: string; children: ReactNode }) {
  return (
    <form
      className={props.className}
      onSubmit={(e) => {
        e.preventDefault();
        props.onSubmit();
      }}
    >
      {props.children}
    </form>
  );
}

/** A Select's options, each value its own label. */
export function Options(props: { values: readonly (string | number)[] }) {
  return (
    <>
      {props.values.map((v) => (
        <option key={v} value={v}>
          {v}
        </option>
      ))}
    </>
  );
}
