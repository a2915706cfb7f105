/**
 * Parse + Describe of one statement on a node-postgres connection, without executing it: the
 * columns the statement would return (RowDescription), as a query object node-postgres runs in its
 * queue (the same `submit` extension point pg-cursor and pg-copy-streams use).
 *
 * Used for `COPY (query) TO STDOUT`, whose own answer has no RowDescription: the query's columns
 * (table OID, attribute number, type) come from describing it on the catalog's side connection.
 * Parse runs parse analysis and rewriting only: no function of the query is called, no row is read,
 * and a data-modifying query (INSERT ... RETURNING) changes nothing.
 */
import type { FieldDescription } from '@sqlwarden/wire-pg';

interface PgField {
  name: string;
  tableID: number;
  columnID: number;
  dataTypeID: number;
  dataTypeSize: number;
  dataTypeModifier: number;
  format: string | number;
}

/** The slice of node-postgres' connection that the query object drives. */
interface PgConnection {
  parse(msg: { text: string; name?: string; types?: number[] }): void;
  describe(msg: { type: 'S' | 'P'; name?: string }): void;
  sync(): void;
}

export class DescribeStatement {
  /** set by node-postgres' Client.query (wrapped with its read timeout) */
  callback: (err: Error | null, fields?: FieldDescription[]) => void;
  private fields: FieldDescription[] = [];
  private settled = false;

  constructor(
    readonly text: string,
    done: (err: Error | null, fields?: FieldDescription[]) => void,
  ) {
    this.callback = done;
  }

  submit(connection: PgConnection): void {
    connection.parse({ text: this.text, types: [] });
    connection.describe({ type: 'S', name: '' });
    connection.sync();
  }

  handleRowDescription(msg: { fields: PgField[] }): void {
    this.fields = msg.fields.map((f) => ({
      name: f.name,
      tableOid: f.tableID,
      attnum: f.columnID,
      typeOid: f.dataTypeID,
      typeLen: f.dataTypeSize,
      typeMod: f.dataTypeModifier,
      format: 0,
    }));
  }

  handleError(err: Error): void {
    this.settle(err);
  }

  handleReadyForQuery(): void {
    this.settle(null, this.fields);
  }

  // nothing else is expected for Parse + Describe + Sync
  handleDataRow(): void {}
  handleCommandComplete(): void {}
  handleEmptyQuery(): void {}
  handlePortalSuspended(): void {}
  handleCopyInResponse(): void {}
  handleCopyData(): void {}

  private settle(err: Error | null, fields?: FieldDescription[]): void {
    if (this.settled) return;
    this.settled = true;
    this.callback(err, fields);
  }
}
