import { Backend } from '@sqlwarden/wire-pg';

/** Transaction status byte of ReadyForQuery, as a character. */
export type TxStatus = 'I' | 'T' | 'E';

/**
 * Follows the message boundaries of PGlite's output, which arrives in chunks that may split
 * messages anywhere, and remembers what the scheduler needs: the status of the last
 * ReadyForQuery and whether a CopyInResponse went by. It never copies or holds the chunks.
 */
export class BackendOutputScanner {
  #header = Buffer.alloc(5);
  #headerFill = 0;
  #type = 0;
  #bodyLeft = 0;
  #bodyOffset = 0;
  /** status byte of the last complete-or-started ReadyForQuery, undefined when none was seen */
  lastReadyStatus: TxStatus | undefined;
  sawCopyIn = false;

  push(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.#bodyLeft > 0) {
        if (this.#type === Backend.ReadyForQuery && this.#bodyOffset === 0) {
          this.lastReadyStatus = String.fromCharCode(chunk[i]!) as TxStatus;
        }
        const n = Math.min(this.#bodyLeft, chunk.length - i);
        i += n;
        this.#bodyLeft -= n;
        this.#bodyOffset += n;
        continue;
      }
      this.#header[this.#headerFill++] = chunk[i++]!;
      if (this.#headerFill < 5) continue;
      this.#headerFill = 0;
      this.#type = this.#header[0]!;
      this.#bodyLeft = Math.max(0, this.#header.readInt32BE(1) - 4);
      this.#bodyOffset = 0;
      if (this.#type === Backend.CopyInResponse) this.sawCopyIn = true;
    }
  }
}

/** Removes the first message of the given type from a complete run of backend messages. */
export function dropFirstMessage(output: Buffer, type: number): Buffer {
  let o = 0;
  while (o + 5 <= output.length) {
    const len = output.readInt32BE(o + 1);
    if (output[o] === type) return Buffer.concat([output.subarray(0, o), output.subarray(o + 1 + len)]);
    o += 1 + len;
  }
  return output;
}
