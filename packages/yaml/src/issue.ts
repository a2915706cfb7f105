/** One problem found in a YAML file, located by key path and line. */
export interface YamlIssue {
  /** 1-based line in the file (0 when the problem is not tied to a line) */
  line: number;
  /** key path like "targets[0].port" ("" for the whole document) */
  path: string;
  message: string;
}

/** "FILE:LINE: KEY.PATH: what is wrong", so editors and people can jump straight to it. */
export function formatIssue(file: string, issue: YamlIssue): string {
  const where = issue.line > 0 ? `${file}:${issue.line}` : file;
  return issue.path ? `${where}: ${issue.path}: ${issue.message}` : `${where}: ${issue.message}`;
}
