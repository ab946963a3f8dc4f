import { Button } from '@fluentui/react-components';
import type { ReactNode } from 'react';

/** A small row action that asks first (`question`), and acts only when the person confirms. */
export function ConfirmButton(props: {
  label: string;
  question: string;
  onConfirm: () => void;
  disabled?: boolean;
  children: ReactNode;
}) {
  return (
    <Button
      size="small"
      aria-label={props.label}
      disabled={props.disabled}
      onClick={() => {
        if (window.confirm(props.question)) {
          props.onConfirm();
        }
      }}
    >
      {props.children}
    </Button>
  );
}
