// Text from outside the project (class folder names, file names, error messages, spec values) shown
// on a terminal or in the Web UI's markdown. A folder named "rose\x1b[2J" would clear the screen of
// whoever runs `sweep status`, a newline would forge a leaderboard line, a bidi override would make
// one class name read as another. Pure, used inside workflows.

// C0 and C1 control characters (newline and tab included: one value, one line), line separators, the
// bidi controls (U+061C, U+200E-F, U+202A-E, U+2066-9), and the invisible ones that make two names look
// alike (zero-width space, word joiner, BOM). Not ZWNJ and ZWJ: Persian, Indic scripts and emoji need them.
const INVISIBLE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b\u200e\u200f\u2028\u2029\u202a-\u202e\u2060\u2066-\u2069\ufeff]/g;

const SHORT: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** `text` with each control character written as its escape (`\n`, `\u001b`), as JSON would. */
export function visible(text: string): string {
  return text.replace(INVISIBLE, (c) => SHORT[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A markdown code fence longer than any run of backticks in `body`, so the body cannot close it. */
export function codeFence(body: string): string {
  const longest = Math.max(0, ...(body.match(/`+/g) ?? []).map((run) => run.length));
  return '`'.repeat(Math.max(3, longest + 1));
}
