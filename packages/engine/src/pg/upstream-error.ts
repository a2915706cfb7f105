/** An upstream could not be reached or refused our login. The message is safe to show to agents. */
export class UpstreamError extends Error {
  constructor(
    message: string,
    /** the upstream's own SQLSTATE when it sent an ErrorResponse */
    readonly sqlstate?: string,
    /** the upstream's own words: logged for operators, never sent to agents (they can name roles and pg_hba rules) */
    readonly detail?: string,
  ) {
    super(message);
    this.name = 'UpstreamError';
  }
}
