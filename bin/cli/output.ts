/** Where a CLI command writes its human or JSON output: stdout in the CLI, a buffer in tests. */
export interface Output {
  out(text: string): void;
}
