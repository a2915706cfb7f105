import { ProtocolError } from './protocol-error.js';
import { PayloadReader } from './reader.js';
import { PayloadWriter } from './writer.js';

/** Protocol::ColumnDefinition41. Names are decoded as UTF-8 (character_set_results). */
export interface ColumnDefinition41 {
  /** always "def" */
  catalog: string;
  schema: string;
  /** the table's alias in the query */
  table: string;
  /** the physical table ('' for expressions) */
  orgTable: string;
  /** the column's alias in the query */
  name: string;
  /** the physical column ('' for expressions) */
  orgName: string;
  /** collation id */
  characterSet: number;
  columnLength: number;
  /** ColumnType */
  type: number;
  /** ColumnFlag bits */
  flags: number;
  decimals: number;
  /** MariaDB extended metadata (MARIADB_CLIENT_EXTENDED_METADATA): e.g. type name "json", format "uuid" */
  extendedTypeName?: string | null;
  extendedFormat?: string | null;
  /** COM_FIELD_LIST only: the column's default value (null when none) */
  defaultValue?: Buffer | null;
}

export interface ColumnDefinitionOptions {
  /** MARIADB_CLIENT_EXTENDED_METADATA was negotiated */
  extendedMetadata?: boolean;
  /** the packet answers COM_FIELD_LIST (a default value follows the fixed fields) */
  fieldList?: boolean;
}

/** MariaDB extended metadata entry types. */
const enum ExtendedMeta {
  TypeName = 0,
  Format = 1,
}

export function decodeColumnDefinition41(payload: Buffer, options: ColumnDefinitionOptions = {}): ColumnDefinition41 {
  const r = new PayloadReader(payload);
  const catalog = r.lenencString();
  const schema = r.lenencString();
  const table = r.lenencString();
  const orgTable = r.lenencString();
  const name = r.lenencString();
  const orgName = r.lenencString();
  let extendedTypeName: string | null = null;
  let extendedFormat: string | null = null;
  if (options.extendedMetadata) {
    const block = r.lenencBytes();
    const e = new PayloadReader(block);
    while (!e.atEnd) {
      const kind = e.u8();
      const value = e.lenencString();
      if (kind === ExtendedMeta.TypeName) extendedTypeName = value;
      else if (kind === ExtendedMeta.Format) extendedFormat = value;
    }
  }
  const fixed = r.lenencInt();
  if (fixed < 0x0c) throw new ProtocolError(`column definition fixed-length block of ${fixed} bytes`);
  const fixedEnd = r.pos + fixed;
  const characterSet = r.u16();
  const columnLength = r.u32();
  const type = r.u8();
  const flags = r.u16();
  const decimals = r.u8();
  r.skip(fixedEnd - r.pos); // filler
  const def: ColumnDefinition41 = { catalog, schema, table, orgTable, name, orgName, characterSet, columnLength, type, flags, decimals };
  if (options.extendedMetadata) {
    def.extendedTypeName = extendedTypeName;
    def.extendedFormat = extendedFormat;
  }
  if (options.fieldList) def.defaultValue = r.atEnd ? null : r.lenencBytesOrNull();
  r.expectEnd('column definition');
  return def;
}

/** Encodes a column definition (to re-send one after changing it, and for tests). */
export function encodeColumnDefinition41(c: ColumnDefinition41, options: ColumnDefinitionOptions = {}): Buffer {
  const w = new PayloadWriter(64 + c.name.length + c.orgName.length + c.table.length + c.orgTable.length + c.schema.length);
  w.lenencString(c.catalog).lenencString(c.schema).lenencString(c.table).lenencString(c.orgTable).lenencString(c.name).lenencString(c.orgName);
  if (options.extendedMetadata) {
    const e = new PayloadWriter(32);
    if (c.extendedTypeName != null) e.u8(ExtendedMeta.TypeName).lenencString(c.extendedTypeName);
    if (c.extendedFormat != null) e.u8(ExtendedMeta.Format).lenencString(c.extendedFormat);
    w.lenencBytes(e.finish());
  }
  w.lenencInt(0x0c).u16(c.characterSet).u32(c.columnLength).u8(c.type).u16(c.flags).u8(c.decimals).zeros(2);
  if (options.fieldList) {
    if (c.defaultValue == null) w.u8(0xfb);
    else w.lenencBytes(c.defaultValue);
  }
  return w.finish();
}
