/**
 * Where each field of one row sits in its packet payload, found without copying. Reused across
 * rows of a resultset: the scanners overwrite it.
 *
 *  - start[i]..end[i]: the field's encoded bytes (length prefix included; empty for a binary NULL)
 *  - value[i]: where the value's bytes start (after a length prefix), or −1 for NULL
 */
export class RowFields {
  count = 0;
  start: Int32Array;
  end: Int32Array;
  value: Int32Array;

  constructor(capacity = 16) {
    this.start = new Int32Array(capacity);
    this.end = new Int32Array(capacity);
    this.value = new Int32Array(capacity);
  }

  /** Makes room for `n` fields and sets the count. */
  reset(n: number): void {
    if (n > this.start.length) {
      this.start = new Int32Array(n);
      this.end = new Int32Array(n);
      this.value = new Int32Array(n);
    }
    this.count = n;
  }

  isNull(i: number): boolean {
    return this.value[i] < 0;
  }

  /** The value's bytes (a view into `payload`; for binary fixed-width and temporal types, the raw encoding), or null. */
  valueOf(payload: Buffer, i: number): Buffer | null {
    const v = this.value[i];
    return v < 0 ? null : payload.subarray(v, this.end[i]);
  }

  /** The field's whole encoding (length prefix included; a view). */
  fieldOf(payload: Buffer, i: number): Buffer {
    return payload.subarray(this.start[i], this.end[i]);
  }
}
