/** Turning zod failures into field-level messages that name what is wrong. */
import type * as z from './zod';
import type { FieldIssue } from './errors';

export function fieldIssues(
  error: z.core.$ZodError,
  prefix: readonly (string | number)[] = [],
): FieldIssue[] {
  return error.issues.map((issue) => {
    const path = [...prefix, ...issue.path].map(String).join('.');
    return { path: path || '(root)', message: issue.message };
  });
}
