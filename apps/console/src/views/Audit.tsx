import { useMemo } from 'react';
import { useSearchParams } from 'react-router';
import { useInfiniteQuery } from '@tanstack/react-query';
import { Button, Checkbox, Field, Input, Select, Text, tokens } from '@fluentui/react-components';
import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { OPERATIONS, OUTCOMES } from '@app/common/domain';
import { useApi } from '../api/context';
import { attemptsApi, filterFromSearch, filterToSearch, type AttemptFilter } from '../api/attempts';
import type { AttemptView } from '../api/types';
import { useStats } from '../hooks';
import { useLive } from '../live';
import { Count, Options, PageTitle, Section, useLayout } from '../components/layout';
import { Empty, ErrorBox, Loading } from '../components/states';
import { DataTable } from '../components/DataTable';
import { attemptTimeColumn, jobColumn, outcomeColumn } from '../components/columns';

const COLORS: Record<string, string> = {
  started: tokens.colorPaletteGreenBackground3,
  dry_run: tokens.colorPaletteBlueBorderActive,
  skipped: tokens.colorNeutralForeground3,
  rate_limited: tokens.colorPaletteMarigoldBackground3,
  not_found: tokens.colorPaletteYellowForeground2,
  denied: tokens.colorPaletteRedBackground3,
  forbidden: tokens.colorPaletteCranberryBorderActive,
  rejected: tokens.colorPaletteDarkOrangeBackground3,
  upstream_error: tokens.colorPaletteBerryBackground3,
  unknown: tokens.colorPalettePurpleBackground2,
  paused: tokens.colorPaletteLightGreenBackground3,
  restarted: tokens.colorPaletteTealBackground2,
  awaiting_approval: tokens.colorPaletteLavenderBackground2,
  held: tokens.colorPalettePumpkinBackground2,
};

/** Attempts bucketed per hour (a span under two days) or per day, by outcome. */
export function bucketByTime(items: AttemptView[]): Record<string, number | string>[] {
  if (items.length === 0) {
    return [];
  }
  const times = items.map((a) => Date.parse(a.createdAt));
  const span = Math.max(...times) - Math.min(...times);
  const hourly = span < 2 * 24 * 3600 * 1000;
  const buckets = new Map<string, Record<string, number | string>>();
  for (const a of items) {
    const iso = new Date(a.createdAt).toISOString();
    const label = hourly ? `${iso.slice(0, 13)}:00Z` : iso.slice(0, 10);
    const b = buckets.get(label) ?? { time: label };
    b[a.outcome] = (Number(b[a.outcome]) || 0) + 1;
    buckets.set(label, b);
  }
  return [...buckets.values()].sort((x, y) => String(x.time).localeCompare(String(y.time)));
}

function download(blob: Blob, name: string) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** Every /v1/attempts filter in the URL, outcomes over time, stats and export. */
export default function Audit() {
  const api = useApi();
  const live = useLive();
  const l = useLayout();
  const [params, setParams] = useSearchParams();
  const parsed = filterFromSearch(params);
  const limit = parsed.limit ?? 50;
  const filter: AttemptFilter = useMemo(() => {
    const { limit: _limit, ...f } = filterFromSearch(params);
    return f;
  }, [params]);
  const set = (next: AttemptFilter & { limit?: number }) =>
    setParams(filterToSearch(next), { replace: true });
  const pages = useInfiniteQuery({
    queryKey: ['audit', filter, limit],
    queryFn: ({ pageParam }) => attemptsApi.list(api, filter, limit, pageParam),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
    refetchInterval: live.refetchInterval,
  });
  const stats = useStats(filter);
  const items = pages.data?.pages.flatMap((p) => p.items) ?? [];
  /** A text or date filter: empty means not filtered. */
  const text = (
    key: 'servicePrincipalId' | 'jobId' | 'actor' | 'from' | 'to',
    label: string,
    type?: 'date',
  ) => (
    <Field label={label}>
      <Input
        type={type}
        value={parsed[key] ?? ''}
        onChange={(_, d) => set({ ...parsed, [key]: d.value || undefined })}
      />
    </Field>
  );
  const exportAs = (format: 'csv' | 'ndjson') =>
    attemptsApi.export(api, filter, format).then(
      (b) => download(b, `attempts.${format}`),
      (e: unknown) => window.alert(e instanceof Error ? e.message : String(e)),
    );

  return (
    <>
      <PageTitle>Audit</PageTitle>
      <Section title="Filters">
        <div className={l.row}>
          {text('servicePrincipalId', 'Service principal id')}
          {text('jobId', 'Job id')}
          {text('actor', 'Actor id')}
          <Field label="Trigger">
            <Select
              value={parsed.trigger ?? ''}
              onChange={(_, d) => set({ ...parsed, trigger: d.value || undefined })}
            >
              <option value="">any</option>
              <option value="api">api</option>
              <option value="recovery">recovery</option>
              <option value="approval">approval</option>
            </Select>
          </Field>
          <Field label="Operation">
            <Select
              value={parsed.operation ?? ''}
              onChange={(_, d) => set({ ...parsed, operation: d.value || undefined })}
            >
              <option value="">any</option>
              <Options values={OPERATIONS} />
            </Select>
          </Field>
          {text('from', 'From (inclusive)', 'date')}
          {text('to', 'To (exclusive)', 'date')}
          <Field label="Page size">
            <Select value={String(limit)} onChange={(_, d) => set({ ...parsed, limit: Number(d.value) })}>
              <Options values={[25, 50, 100, 200, 500]} />
            </Select>
          </Field>
        </div>
        <fieldset style={{ border: 'none', padding: 0, marginTop: 8 }}>
          <legend>
            <Text weight="semibold">Outcomes</Text>
          </legend>
          {OUTCOMES.map((o) => (
            <Checkbox
              key={o}
              label={o}
              checked={parsed.outcome?.includes(o) ?? false}
              onChange={(_, d) => {
                const current = parsed.outcome ?? [];
                const next = d.checked ? [...current, o] : current.filter((x) => x !== o);
                set({ ...parsed, outcome: next.length ? next : undefined });
              }}
            />
          ))}
        </fieldset>
        <div className={l.row} style={{ marginTop: 8 }}>
          <Button onClick={() => set({})}>Clear filters</Button>
          <Button onClick={() => void exportAs('csv')}>Export CSV</Button>
          <Button onClick={() => void exportAs('ndjson')}>Export NDJSON</Button>
        </div>
      </Section>
      <Section title="Stats">
        {stats.error ? (
          <ErrorBox error={stats.error} />
        ) : !stats.data ? (
          <Loading />
        ) : (
          <div className={l.cards} aria-label="Counts by outcome">
            <Count label="total" value={stats.data.total} />
            {Object.entries(stats.data.byOutcome)
              .filter(([, n]) => (n ?? 0) > 0)
              .map(([o, n]) => (
                <Count key={o} label={o} value={n ?? 0} />
              ))}
          </div>
        )}
      </Section>
      <OutcomesOverTime items={items} />
      <Section title="Attempts">
        {pages.error ? (
          <ErrorBox error={pages.error} />
        ) : pages.isPending ? (
          <Loading />
        ) : items.length === 0 ? (
          <Empty>No attempt matches the filters.</Empty>
        ) : (
          <>
            <DataTable
              label="Attempts"
              size="small"
              rows={items}
              rowKey={(a) => a.attemptId}
              columns={[
                attemptTimeColumn(),
                jobColumn(l.id),
                outcomeColumn(),
                { header: 'Who', cell: (a) => a.actor.name ?? a.actor.id },
                { header: 'Trigger', cell: (a) => a.trigger },
                { header: 'Message', cell: (a) => a.message },
              ]}
            />
            {pages.hasNextPage && (
              <Button
                style={{ marginTop: 8 }}
                disabled={pages.isFetchingNextPage}
                onClick={() => void pages.fetchNextPage()}
              >
                Load more
              </Button>
            )}
          </>
        )}
      </Section>
    </>
  );
}

/** The attempts on screen, stacked by outcome per time bucket. */
function OutcomesOverTime(props: { items: Parameters<typeof bucketByTime>[0] }) {
  const chart = bucketByTime(props.items);
  const outcomesInChart = OUTCOMES.filter((o) => chart.some((b) => b[o] !== undefined));
  return (
    <Section title="Outcomes over time">
      {chart.length === 0 ? (
        <Empty>No attempt to chart.</Empty>
      ) : (
        <div style={{ width: '100%', height: 260 }} role="img" aria-label="Attempts over time by outcome">
          <ResponsiveContainer>
            <BarChart data={chart}>
              <CartesianGrid strokeDasharray="3 3" />
              <XAxis dataKey="time" tick={{ fill: tokens.colorNeutralForeground2 }} />
              <YAxis allowDecimals={false} tick={{ fill: tokens.colorNeutralForeground2 }} />
              <Tooltip />
              <Legend />
              {outcomesInChart.map((o) => (
                <Bar key={o} dataKey={o} stackId="a" fill={COLORS[o] ?? tokens.colorBrandBackground} />
              ))}
            </BarChart>
          </ResponsiveContainer>
        </div>
      )}
    </Section>
  );
}
