import type { ComponentChildren } from 'preact';
import { TableScroll } from './ui';

/** Attributes set on a cell or row, such as the `data-*` values the browser tests read. */
export type DataAttributes = Readonly<Record<`data-${string}`, string | number>>;

/** One column of a {@link DataTable}. */
export interface Column<R> {
  readonly header: string;
  /** Right-aligned figures. @default false */
  readonly num?: boolean;
  /** The cell names its row (`<th scope="row">`), for screen readers. @default false */
  readonly rowHeader?: boolean;
  readonly cell: (row: R) => ComponentChildren;
  /** Attributes of the cell. @default - none */
  readonly attributes?: (row: R) => DataAttributes;
}

/** Props of {@link DataTable}. */
export interface DataTableProps<R> {
  /** The table's caption (read by screen readers) and its scroll region's label. */
  readonly label: string;
  readonly columns: ReadonlyArray<Column<R>>;
  readonly rows: readonly R[];
  readonly rowKey: (row: R) => string;
  /** Attributes of each row. @default - none */
  readonly rowAttributes?: (row: R) => DataAttributes;
  /** @default - none */
  readonly id?: string;
  /** Tighter rows. @default false */
  readonly compact?: boolean;
}

/**
 * A table in its own keyboard-reachable scroll region, with a hidden caption and column headers:
 * the report tables are all this shape, so a column is one line and a table cannot forget its
 * caption or its `scope`s.
 */
export function DataTable<R>({
  label,
  columns,
  rows,
  rowKey,
  rowAttributes,
  id,
  compact,
}: DataTableProps<R>) {
  return (
    <TableScroll label={label}>
      <table id={id} class={compact ? 'compact' : undefined}>
        <caption class="visually-hidden">{label}</caption>
        <thead>
          <tr>
            {columns.map((c) => (
              <th key={c.header} scope="col" class={c.num ? 'num' : undefined}>
                {c.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr key={rowKey(row)} {...rowAttributes?.(row)}>
              {columns.map((c) =>
                c.rowHeader ? (
                  <th key={c.header} scope="row" {...c.attributes?.(row)}>
                    {c.cell(row)}
                  </th>
                ) : (
                  <td key={c.header} class={c.num ? 'num' : undefined} {...c.attributes?.(row)}>
                    {c.cell(row)}
                  </td>
                ),
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </TableScroll>
  );
}
