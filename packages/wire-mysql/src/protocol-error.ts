/** The only error the decoders throw: the peer broke the protocol. */
export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolError';
  }
}

/**
 * A logical packet larger than the configured limit was announced. Thrown as soon as the
 * header shows it, before its payload is buffered; the peer should get ER_NET_PACKET_TOO_LARGE.
 */
export class PacketTooLargeError extends ProtocolError {
  constructor(
    readonly size: number,
    readonly limit: number,
  ) {
    super(`packet of at least ${size} bytes exceeds the limit of ${limit}`);
    this.name = 'PacketTooLargeError';
  }
}
