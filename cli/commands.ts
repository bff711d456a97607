// The `sweep` command line: every subcommand's arguments, options and help in one table, parsed
// strictly by Node's util.parseArgs (an unknown option is an error that names it; --x=y works).
import { parseArgs } from 'node:util';

/** Exit codes, documented in the README and `sweep --help`. */
export const EXIT = {
  ok: 0,
  /** Something went wrong that is not about the sweep (Temporal or S3 refused, a bug). */
  error: 1,
  /** The command line or the spec is wrong (or names no sweep); nothing was started. */
  usage: 2,
  /** The sweep failed. */
  sweepFailed: 3,
  /** The sweep was cancelled, terminated or timed out. */
  sweepStopped: 4,
  /** Ctrl-C while waiting; the sweep goes on. */
  interrupted: 130,
} as const;

export class UsageError extends Error {}

/** The exit code for a sweep's Temporal status: 0 while running or completed. */
export function exitCodeOf(status: string): number {
  if (status === 'FAILED') return EXIT.sweepFailed;
  if (['CANCELLED', 'TERMINATED', 'TIMED_OUT'].includes(status)) return EXIT.sweepStopped;
  return EXIT.ok;
}

interface OptionSpec {
  type: 'string' | 'boolean';
  help: string;
  /** For string options: what the value is, in the help. */
  value?: string;
}

interface CommandSpec {
  args: string;
  summary: string;
  options: Record<string, OptionSpec>;
  /** Positional arguments: at least `min`, at most `max` (Infinity for a list). */
  min: number;
  max: number;
}

const json = { type: 'boolean', help: 'print the stable JSON document (docs/cli-json.md)' } as const;

export const COMMANDS = {
  start: { args: '<spec.json>', summary: 'check a sweep spec and start the sweep', min: 1, max: 1, options: {
    id: { type: 'string', value: 'ID', help: 'the sweep id: letters, digits, ".", "_" or "-" (default: <name>-<UTC time>); one a sweep used before is refused' },
    wait: { type: 'boolean', help: 'wait for the sweep to finish (through Temporal outages), then print the leaderboard' },
    json,
  } },
  validate: { args: '<spec.json>', summary: 'check a spec and its data source and print what would run; starts nothing', min: 1, max: 1, options: { json } },
  list: { args: '', summary: 'recent sweeps: status, stage, trial counts, best val accuracy', min: 0, max: 0, options: {
    limit: { type: 'string', value: 'N', help: 'how many sweeps, newest first (default 20)' },
    json,
  } },
  status: { args: '<id>', summary: 'stage, trials done/running/failed, data summary, retries and why', min: 1, max: 1, options: { json } },
  watch: { args: '<id>', summary: 'live progress bars and the leaderboard so far, until the sweep ends', min: 1, max: 1, options: {
    interval: { type: 'string', value: 'SECONDS', help: 'seconds between refreshes (0.2 to 600, default 1)' },
    plain: { type: 'boolean', help: 'one line per change instead of redrawing (the default when not on a terminal)' },
  } },
  results: { args: '<id>', summary: 'the leaderboard of a finished (or cancelled) sweep', min: 1, max: 1, options: {
    json,
    csv: { type: 'boolean', help: 'every (trial, epoch) row as CSV' },
  } },
  report: { args: '<id>', summary: 'write the HTML report: ranked table, curves, confusion matrix', min: 1, max: 1, options: {
    out: { type: 'string', value: 'FILE', help: 'where to write it (default <id>-report.html)' },
  } },
  tensorboard: { args: '<id>', summary: 'run TensorBoard on the sweep\'s event files in S3', min: 1, max: 1, options: {
    port: { type: 'string', value: 'PORT', help: 'default 6006' },
    host: { type: 'string', value: 'HOST', help: 'default 127.0.0.1' },
  } },
  predict: { args: '<id> <image...>', summary: 'classify images with the sweep\'s exported best model', min: 2, max: Infinity, options: { json } },
  cancel: { args: '<id>', summary: 'stop the sweep; finished trials and checkpoints are kept (one that has ended exits as status does)', min: 1, max: 1, options: {} },
} satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof COMMANDS;
type OptionsOf<C extends CommandName> = (typeof COMMANDS)[C]['options'];
export type ParsedOptions<C extends CommandName> = {
  [K in keyof OptionsOf<C>]?: OptionsOf<C>[K] extends { type: 'boolean' } ? boolean : string;
};

export type Invocation =
  | { kind: 'help'; text: string }
  | { kind: 'version' }
  | { [C in CommandName]: { kind: 'command'; command: C; positionals: string[]; options: ParsedOptions<C> } }[CommandName];

const EXIT_CODES_HELP = `exit codes:
  0    done (for start --wait, status and watch: the sweep completed, or is running)
  1    an error not about the sweep (Temporal or S3 unreachable, a bug)
  2    bad command line or spec (or no sweep with that id); nothing was started
  3    the sweep failed
  4    the sweep was cancelled, terminated or timed out
  130  Ctrl-C while waiting; the sweep goes on`;

export function programHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((c) => c.length));
  return [
    'usage: sweep <command> [options]',
    '',
    'Durable hyperparameter sweeps for transfer-learning image classifiers, on Temporal.',
    '',
    'commands:',
    ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`),
    '',
    'options for every command: -h, --help (the command\'s own help); sweep --version',
    '',
    EXIT_CODES_HELP,
    '',
    'Temporal and S3 settings come from the environment or .stack/stack.env (README, "Configuration").',
  ].join('\n');
}

export function commandUsage(name: CommandName): string {
  const c: CommandSpec = COMMANDS[name];
  const flags = Object.entries(c.options).map(([flag, o]) => `[--${flag}${o.type === 'string' ? ` ${o.value}` : ''}]`);
  return `usage: sweep ${[name, c.args, ...flags].filter(Boolean).join(' ')}`;
}

export function commandHelp(name: CommandName): string {
  const c: CommandSpec = COMMANDS[name];
  const rows = Object.entries(c.options).map(([flag, o]) => [`--${flag}${o.type === 'string' ? ` ${o.value}` : ''}`, o.help]);
  rows.push(['-h, --help', 'this help']);
  const width = Math.max(...rows.map(([f]) => f.length));
  return [commandUsage(name), '', c.summary, '', 'options:', ...rows.map(([f, h]) => `  ${f.padEnd(width)}  ${h}`), '', EXIT_CODES_HELP].join('\n');
}

/** Parses argv (without node and the script); throws UsageError naming what is wrong and where help is. */
export function parseCommandLine(argv: string[]): Invocation {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') return { kind: 'help', text: programHelp() };
  if (first === '--version' || first === '-V') return { kind: 'version' };
  if (!(first in COMMANDS)) {
    throw new UsageError(first.startsWith('-') ? `unknown option ${first}; see \`sweep --help\`` : `unknown command "${first}"; the commands are ${Object.keys(COMMANDS).join(', ')} (see \`sweep --help\`)`);
  }
  const command = first as CommandName;
  const spec: CommandSpec = COMMANDS[command];
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({
      args: rest,
      strict: true,
      allowPositionals: true,
      options: { ...Object.fromEntries(Object.entries(spec.options).map(([flag, o]) => [flag, { type: o.type }])), help: { type: 'boolean', short: 'h' } },
    });
  } catch (error) {
    throw new UsageError(`sweep ${command}: ${parseArgsProblem(error as Error)}\n${commandUsage(command)}\n(see \`sweep ${command} --help\`)`);
  }
  if (parsed.values.help) return { kind: 'help', text: commandHelp(command) };
  const count = parsed.positionals.length;
  if (count < spec.min || count > spec.max) {
    const what = count < spec.min ? `missing ${spec.args.split(' ').slice(count).join(' ')}` : `unexpected argument "${parsed.positionals[spec.max]}"`;
    throw new UsageError(`sweep ${command}: ${what}\n${commandUsage(command)}\n(see \`sweep ${command} --help\`)`);
  }
  const { help: _help, ...options } = parsed.values;
  return { kind: 'command', command, positionals: parsed.positionals, options } as Invocation;
}

/** parseArgs' messages, shortened to the problem (they include advice about '--' that does not apply). */
function parseArgsProblem(error: Error): string {
  const code = (error as { code?: string }).code;
  const option = /'(-{1,2}[^']+)'/.exec(error.message)?.[1];
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') return `unknown option ${option ?? error.message}`;
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    if (/argument missing/.test(error.message)) return `option ${option} needs a value`;
    // A value that starts with "-" reads as another option.
    if (/ambiguous/.test(error.message)) return `option ${option} needs a value; for one that starts with "-", write ${option}=<value>`;
    return `option ${option} takes no value`;
  }
  return error.message;
}
