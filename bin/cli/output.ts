/** Where a CLI command writes its human or JSON output: stdout in the CLI, a buffer in tests. */
export interface Output {
  out(text: string): void;
  /** Notes beside the output (stderr in the CLI), where stdout must stay one document: a CSV, say. */
  note(text: string): void;
}
