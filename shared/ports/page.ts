/** A page of query results with an opaque continuation token. */
export interface Page<T> {
  readonly items: T[];
  readonly nextToken?: string;
}
