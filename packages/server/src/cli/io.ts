/** Where the CLI reads and writes; injectable so commands can be tested in-process. */
export interface CliIo {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  env: NodeJS.ProcessEnv;
  /** ends the process (used only by `start`, to not hang on a stuck handle after shutdown) */
  exit: (code: number) => void;
}

export const processIo: CliIo = {
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  exit: (code) => process.exit(code),
};
