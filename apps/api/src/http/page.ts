/** One page of a keyset-paginated list: the items and the cursor of the next page, if there is one. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * One page from `limit + 1` rows read by the repository: the extra row only says there is a next page, whose
 * cursor is `cursorOf` the page's last item.
 */
export function pageOf<T>(rows: T[], limit: number, cursorOf: (last: T) => string): Page<T> {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > limit && last !== undefined ? cursorOf(last) : null };
}
