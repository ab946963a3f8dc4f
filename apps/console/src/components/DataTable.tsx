import type { CSSProperties, ReactNode } from 'react';
import {
  Table,
  TableBody,
  TableCell,
  TableHeader,
  TableHeaderCell,
  TableRow,
  type TableRowProps,
} from '@fluentui/react-components';
import { QueryState } from './states';

/** One column: its header and how a row fills its cell. */
export interface Column<T> {
  header: ReactNode;
  cell: (row: T) => ReactNode;
  /** On the cell, e.g. the layout's `id` or `mono` class. */
  className?: string;
  /** The cell's tooltip, e.g. the full id behind a shortened one. */
  title?: (row: T) => string;
  /** On the header cell, e.g. a width. */
  headerStyle?: CSSProperties;
}

/**
 * A Fluent table from columns and rows. A column given as `false` is left out (`admin && { ... }`), so one list
 * of columns serves every role.
 */
interface TableProps<T> {
  label: string;
  columns: (Column<T> | false)[];
  rowKey: (row: T) => string;
  size?: 'small' | 'medium';
  rowProps?: (row: T) => Pick<TableRowProps, 'id' | 'className' | 'aria-current'>;
}

export function DataTable<T>(props: TableProps<T> & { rows: readonly T[] }) {
  const columns = props.columns.filter((c): c is Column<T> => c !== false);
  return (
    <Table aria-label={props.label} size={props.size}>
      <TableHeader>
        <TableRow>
          {columns.map((c, i) => (
            <TableHeaderCell key={i} style={c.headerStyle}>
              {c.header}
            </TableHeaderCell>
          ))}
        </TableRow>
      </TableHeader>
      <TableBody>
        {props.rows.map((row) => (
          <TableRow key={props.rowKey(row)} {...props.rowProps?.(row)}>
            {columns.map((c, i) => (
              <TableCell key={i} className={c.className} title={c.title?.(row)}>
                {c.cell(row)}
              </TableCell>
            ))}
          </TableRow>
        ))}
      </TableBody>
    </Table>
  );
}

/**
 * A DataTable over rows that come from one query: while it loads, when it failed, or when there is no row, the
 * table gives way to QueryState's spinner, error or `emptyText`.
 */
export function QueryTable<T>(
  props: TableProps<T> & {
    query: { isPending: boolean; error: unknown; data: unknown };
    rows: readonly T[];
    emptyText: string;
  },
) {
  const { query, emptyText, ...table } = props;
  return (
    <QueryState query={query} empty={() => table.rows.length === 0} emptyText={emptyText}>
      {() => <DataTable {...table} />}
    </QueryState>
  );
}
