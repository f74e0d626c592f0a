/** The CLI's command table: each subcommand is a name, a one-line summary, its usage and a handler. */
export interface Command {
  summary: string;
  usage: string;
  /** Returns the process exit code. */
  run: (argv: string[]) => Promise<number>;
}

export type CommandTable = Record<string, Command>;

export function helpText(table: CommandTable): string {
  const width = Math.max(...Object.keys(table).map((k) => k.length));
  const lines = Object.entries(table).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    'usage: npm run clv -- <command> [options]',
    '',
    'commands:',
    ...lines,
    '',
    'npm run clv -- <command> --help for its options',
  ].join('\n');
}

export async function dispatch(table: CommandTable, argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    console.log(helpText(table));
    return name === undefined ? 2 : 0;
  }
  const command = table[name];
  if (!command) {
    console.error(`unknown command '${name}'\n\n${helpText(table)}`);
    return 2;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    console.log(command.usage);
    return 0;
  }
  return command.run(rest);
}
