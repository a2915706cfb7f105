/** One problem found in a config file, located by key path and line. */
export interface ConfigIssue {
  /** 1-based line in the file (0 when the problem is not tied to a line) */
  line: number;
  /** key path like "targets[0].port" ("" for the whole document) */
  path: string;
  message: string;
}

/**
 * A config file that cannot be used. The message lists every problem, one per
 * line, as "FILE:LINE: KEY.PATH: what is wrong", so editors and people can
 * jump straight to it.
 */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly issues: readonly ConfigIssue[],
  ) {
    super(issues.map((i) => formatIssue(file, i)).join('\n'));
    this.name = 'ConfigError';
  }
}

export function formatIssue(file: string, issue: ConfigIssue): string {
  const where = issue.line > 0 ? `${file}:${issue.line}` : file;
  return issue.path ? `${where}: ${issue.path}: ${issue.message}` : `${where}: ${issue.message}`;
}
