/** The innermost cause's message: what actually went wrong under Temporal's failure wrappers. */
export function rootMessage(error: unknown): string {
  let e = error as { message?: string; cause?: unknown } | undefined;
  while (e?.cause) e = e.cause as typeof e;
  return e?.message ?? String(error);
}
