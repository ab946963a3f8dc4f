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
export function DataTable<T>(props: {
  label: string;
  columns: (Column<T> | false)[];
  rows: readonly T[];
  rowKey: (row: T) => string;
  size?: 'small' | 'medium';
  rowProps?: (row: T) => Pick<TableRowProps, 'id' | 'className' | 'aria-current'>;
}) {
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
