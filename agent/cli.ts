/**
 * `allbit run | validate | simulate | demo | alarms | opcua | password` — the command line. Each command parses its own
 * options, prints `--help`, and hands over to the runtime.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../config/package-root.js';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError } from '../config/issues.js';
import { loadConfigFile } from '../config/load.js';
import { requestsPerCycle } from './runtime.js';

export const VERSION: string = (JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

const USAGE = `allbit ${VERSION} — edge gateway for data-center power and cooling plant

Usage: allbit <command> [options]

Commands:
  run --config FILE        run the agent with a config file (YAML or JSON)
  validate --config FILE   check a config file; exit 0 if good, 1 listing every problem
  simulate                 run the plant simulator alone (Modbus TCP, Modbus RTU, OPC UA)
  demo                     simulator + embedded MQTT broker + agent + status page
  alarms backtest          run the alarm rules over a recorded history (CSV)
  opcua browse             print an OPC UA server's address space (NodeIds for tags)
  opcua trust              show an OPC UA server's certificate and trust it
  password --config FILE   set the status page's operator password (--stdin or --generate)

Run \`allbit <command> --help\` for a command's options.
`;

const COMMAND_HELP: Record<string, string> = {
  run: `Usage: allbit run --config FILE [--log-level LEVEL]

Runs the agent: polls the configured devices, buffers every reading in the SQLite outbox and
forwards it to the MQTT broker. Stops cleanly on Ctrl-C / SIGTERM (buffer closed, offline status sent).

Options:
  -c, --config FILE     config file (YAML or JSON)
      --log-level LEVEL debug | info | warn | error (overrides log.level)
  -h, --help            this help
`,
  validate: `Usage: allbit validate --config FILE

Checks the config file — schema, profiles, tag definitions, secret references — without opening
any device, broker or buffer. Exits 0 when it is good; 1 with every problem as "path: message".

Options:
  -c, --config FILE   config file (YAML or JSON)
  -h, --help          this help
`,
  simulate: `Usage: allbit simulate [--host HOST] [--base-port PORT] [--time-speed N] [--fault DEVICE:FAULT[:SEVERITY]]...
                       [--rtu-serial PATH] [--rtu-baud N] [--no-opcua] [--opcua-pki DIR]

Runs the plant simulator alone: a chiller, a cooling tower, a transformer and a UPS driven by an
AI-workload IT load, served over every field transport at once:
  Modbus TCP      one server per device on PORT, PORT+1, PORT+2, PORT+3 (unit 1)
  Modbus RTU      all four as units 1–4 on one bus: RTU over TCP on PORT+4, and on a serial
                  device with --rtu-serial (for example one end of a socat pty pair)
  OPC UA          opc.tcp://HOST:PORT+5/allbit/plant (None, Sign, SignAndEncrypt; anonymous)

Options:
      --host HOST        interface to listen on (default 127.0.0.1)
      --base-port PORT   first port (default 15020)
      --time-speed N     simulated seconds per real second (default 1)
      --fault SPEC       inject a fault, e.g. chiller-1:condenser-fouling:0.8 (repeatable)
      --rtu-serial PATH  also serve the RTU bus on this serial device
      --rtu-baud N       pace RTU replies like a line of N baud (default 19200)
      --no-opcua         no OPC UA server
      --opcua-pki DIR    the OPC UA server's certificate folder (default ./data/simulator-pki)
  -h, --help             this help
`,
  demo: `Usage: allbit demo [--broker-port PORT] [--status-port PORT] [--time-speed N]

Starts the plant simulator, an embedded MQTT broker (127.0.0.1:1883 or the next free port), the
agent with config/examples/demo.yaml and the status page (http://127.0.0.1:8080 or the next free
port). Watch the data with: mosquitto_sub -h 127.0.0.1 -p PORT -t 'allbit/#' -v

Options:
      --broker-port PORT   preferred MQTT port (default 1883)
      --status-port PORT   preferred status page port (default 8080)
      --time-speed N       simulated seconds per real second (default 1)
  -h, --help               this help
`,
  alarms: `Usage: allbit alarms backtest [options]

Alarm tools:
  backtest   run the configured alarm rules over a recorded history (CSV) and print every event
             and a summary per alarm

Run \`allbit alarms backtest --help\` for its options.
`,
  'alarms backtest': `Usage: allbit alarms backtest --config FILE --csv HISTORY.csv --time-column NAME --map COLUMN=device.tag [--map …] [--json]

Runs the alarm rules of FILE over a recorded history, with the recorded time as the clock (delays,
deadbands and chatter suppression behave as they would have live), and prints every alarm event
with its time and a summary per alarm: how often raised, how long active in total, the longest.

Options:
  -c, --config FILE        the gateway config whose devices[].alarms are tested
      --csv FILE           the history: a header row, a time column, one column per signal
      --time-column NAME   the time column: ISO 8601, or epoch seconds or milliseconds
      --map COLUMN=DEV.TAG which column holds which device tag (repeatable)
      --json               events and summary as JSON
  -h, --help               this help
`,
  opcua: `Usage: allbit opcua browse|trust [options]

OPC UA tools for setting up a device:
  browse   print a server's address space as a tree: NodeIds, data types, units, values
  trust    show a server's certificate (subject, validity, SHA-1 thumbprint) and trust it

Run \`allbit opcua browse --help\` or \`allbit opcua trust --help\` for their options.
`,
  'opcua browse': `Usage: allbit opcua browse --endpoint URL [--security-mode M --security-policy P]
                          [--user NAME --password-env VAR] [--pki-dir DIR] [--depth N] [--root NODEID]
       allbit opcua browse --config FILE --device ID [--depth N] [--root NODEID]

Connects like the agent does (same security, identity and certificate check) and prints the
address space below Objects (or --root) as an indented tree: browse name, NodeId, node class, and
for variables the data type, engineering unit and current value — NodeIds ready to use in tags.

Options:
      --endpoint URL          opc.tcp://host:port[/path]
      --security-mode M       None | Sign | SignAndEncrypt (default None)
      --security-policy P     None | Basic256Sha256 | Aes128_Sha256_RsaOaep | Aes256_Sha256_RsaPss
      --user NAME             user name (default: anonymous)
      --password-env VAR      environment variable that holds the password
      --pki-dir DIR           client certificates and trusted servers (default ./data/pki)
  -c, --config FILE           take endpoint, security, identity and PKI folder from a config file…
      --device ID             …for this device
      --depth N               levels below the root (default 6)
      --root NODEID           start here instead of Objects (i=85), e.g. ns=2;s=Plant
      --timeout-ms N          per request (default 10000)
  -h, --help                  this help
`,
  'opcua trust': `Usage: allbit opcua trust --endpoint URL [--pki-dir DIR] [--yes | --thumbprint HEX]
       allbit opcua trust --config FILE --device ID [--yes | --thumbprint HEX]

Asks the server for its certificate (GetEndpoints, no session) and prints its subject, validity
and SHA-1 thumbprint. With --yes, or with --thumbprint matching what the server presents, stores it
in DIR/trusted/certs: the agent then accepts the server. Without either, it only prints.

Options:
      --endpoint URL          opc.tcp://host:port[/path]
      --pki-dir DIR           client certificates and trusted servers (default ./data/pki)
  -c, --config FILE           take endpoint and PKI folder from a config file…
      --device ID             …for this device
      --thumbprint HEX        trust only if the server presents this certificate (SHA-1, 40 hex digits)
  -y, --yes                   trust what the server presents
      --timeout-ms N          per request (default 10000)
  -h, --help                  this help
`,
  password: `Usage: allbit password --config FILE --generate
       some-command | allbit password --config FILE --stdin

Sets the status page's operator password (one per gateway; the name an operator gives at login is
recorded with each action). Only a scrypt hash is stored, in status.passwordFile (default: beside
the outbox, <outbox name>-status-password.json, mode 0600). A running agent uses the new password
from the next login and ends the sessions opened with the old one; no restart is needed.

Options:
  -c, --config FILE   the gateway config (it names the password file)
      --generate      generate a strong password and print it
      --stdin         read the new password from a pipe (at least 12 characters; one trailing newline is removed)
  -h, --help          this help
`,
};

type Options = NonNullable<ParseArgsConfig['options']>;

const COMMAND_OPTIONS: Record<string, Options> = {
  run: { config: { type: 'string', short: 'c' }, 'log-level': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  validate: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } },
  simulate: {
    host: { type: 'string' },
    'base-port': { type: 'string' },
    'time-speed': { type: 'string' },
    fault: { type: 'string', multiple: true },
    'rtu-serial': { type: 'string' },
    'rtu-baud': { type: 'string' },
    'no-opcua': { type: 'boolean' },
    'opcua-pki': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
  demo: {
    'broker-port': { type: 'string' },
    'status-port': { type: 'string' },
    'time-speed': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
  alarms: { help: { type: 'boolean', short: 'h' } },
  'alarms backtest': {
    config: { type: 'string', short: 'c' },
    csv: { type: 'string' },
    'time-column': { type: 'string' },
    map: { type: 'string', multiple: true },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
  opcua: { help: { type: 'boolean', short: 'h' } },
  'opcua browse': {
    endpoint: { type: 'string' },
    'security-mode': { type: 'string' },
    'security-policy': { type: 'string' },
    user: { type: 'string' },
    'password-env': { type: 'string' },
    'pki-dir': { type: 'string' },
    config: { type: 'string', short: 'c' },
    device: { type: 'string' },
    depth: { type: 'string' },
    root: { type: 'string' },
    'timeout-ms': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
  'opcua trust': {
    endpoint: { type: 'string' },
    'pki-dir': { type: 'string' },
    config: { type: 'string', short: 'c' },
    device: { type: 'string' },
    thumbprint: { type: 'string' },
    yes: { type: 'boolean', short: 'y' },
    'timeout-ms': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  },
  password: { config: { type: 'string', short: 'c' }, stdin: { type: 'boolean' }, generate: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
};

export async function main(argv: string[], out: NodeJS.WritableStream = process.stdout, err: NodeJS.WritableStream = process.stderr): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined) {
    err.write(USAGE);
    return 1;
  }
  if (command === 'help' || command === '--help' || command === '-h') {
    out.write(USAGE);
    return 0;
  }
  if (command === '--version' || command === '-v') {
    out.write(`${VERSION}\n`);
    return 0;
  }
  // `allbit opcua browse …`: the subcommand is part of the command's name ("opcua browse").
  if (command === 'opcua' && COMMAND_OPTIONS[`opcua ${rest[0]}`]) return main([`opcua ${rest[0]}`, ...rest.slice(1)], out, err);
  if (command === 'alarms' && COMMAND_OPTIONS[`alarms ${rest[0]}`]) return main([`alarms ${rest[0]}`, ...rest.slice(1)], out, err);
  const options = COMMAND_OPTIONS[command];
  if (!options) {
    err.write(`allbit: unknown command "${command}"\n\n${USAGE}`);
    return 1;
  }
  let values: Record<string, string | boolean | string[] | undefined>;
  try {
    values = parseArgs({ args: rest, options, allowPositionals: false, strict: true }).values as typeof values;
  } catch (e) {
    err.write(`allbit ${command}: ${(e as Error).message}\n\n${COMMAND_HELP[command]}`);
    return 1;
  }
  if (values.help) {
    out.write(COMMAND_HELP[command]);
    return 0;
  }
  try {
    return await runCommand(command, values, out, err);
  } catch (e) {
    if (e instanceof UsageError) {
      err.write(`allbit ${command}: ${e.message}\n\n${COMMAND_HELP[command]}`);
      return 1;
    }
    throw e;
  }
}

/** A wrong option value: reported with the command's usage. */
class UsageError extends Error {}

const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;

async function runCommand(
  command: string,
  values: Record<string, string | boolean | string[] | undefined>,
  out: NodeJS.WritableStream,
  err: NodeJS.WritableStream,
): Promise<number> {
  switch (command) {
    case 'validate':
      return validate(values.config as string | undefined, out, err);
    case 'run': {
      const level = values['log-level'] as string | undefined;
      if (level !== undefined && !(LOG_LEVELS as readonly string[]).includes(level)) throw new UsageError(`--log-level: expected one of ${LOG_LEVELS.join(', ')}, got "${level}"`);
      return run(values.config as string | undefined, level, err);
    }
    case 'simulate':
      return (await import('./simulate-command.js')).simulateCommand(
        {
          host: (values.host as string | undefined) ?? '127.0.0.1',
          basePort: intOption(values['base-port'], 15020, 'base-port'),
          timeSpeed: numberOption(values['time-speed'], 1, 'time-speed'),
          faults: (values.fault as string[] | undefined) ?? [],
          rtuSerial: values['rtu-serial'] as string | undefined,
          rtuBaud: numberOption(values['rtu-baud'], 19200, 'rtu-baud'),
          opcua: !values['no-opcua'],
          opcuaPkiDir: (values['opcua-pki'] as string | undefined) ?? 'data/simulator-pki',
        },
        out,
        err,
      );
    case 'demo':
      return (await import('./demo.js')).demoCommand(
        {
          brokerPort: intOption(values['broker-port'], 1883, 'broker-port'),
          statusPort: intOption(values['status-port'], 8080, 'status-port'),
          timeSpeed: numberOption(values['time-speed'], 1, 'time-speed'),
          version: VERSION,
        },
        out,
        err,
      );
    case 'alarms':
      err.write(COMMAND_HELP.alarms);
      return 1;
    case 'alarms backtest': {
      const { backtestCommand, AlarmsUsageError } = await import('./alarms-command.js');
      const required = ['config', 'csv', 'time-column'] as const;
      for (const name of required) if (values[name] === undefined) throw new UsageError(`--${name} is required`);
      if (!values.map || (values.map as string[]).length === 0) throw new UsageError('--map COLUMN=device.tag is required (at least one)');
      try {
        return backtestCommand(
          { config: values.config as string, csv: values.csv as string, timeColumn: values['time-column'] as string, map: values.map as string[], json: values.json === true },
          out,
          err,
        );
      } catch (e) {
        if (e instanceof AlarmsUsageError) throw new UsageError(e.message);
        throw e;
      }
    }
    case 'opcua':
      err.write(COMMAND_HELP.opcua);
      return 1;
    case 'opcua browse':
    case 'opcua trust': {
      const { opcuaCommand, OpcUaUsageError } = await import('./opcua-command.js');
      try {
        return await opcuaCommand(command === 'opcua browse' ? 'browse' : 'trust', values, out, err);
      } catch (e) {
        if (e instanceof OpcUaUsageError) throw new UsageError(e.message);
        throw e;
      }
    }
    case 'password': {
      if (values.config === undefined) throw new UsageError('--config FILE is required');
      const { passwordCommand, PasswordUsageError } = await import('./password-command.js');
      try {
        return await passwordCommand({ config: values.config as string, stdin: values.stdin === true, generate: values.generate === true }, out, err);
      } catch (e) {
        if (e instanceof PasswordUsageError) throw new UsageError(e.message);
        throw e;
      }
    }
  }
  return 1;
}

function intOption(raw: unknown, fallback: number, name: string): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--${name}: expected a port number 0–65535, got "${String(raw)}"`);
  return n;
}

function numberOption(raw: unknown, fallback: number, name: string): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`--${name}: expected a positive number, got "${String(raw)}"`);
  return n;
}

function validate(configPath: string | undefined, out: NodeJS.WritableStream, err: NodeJS.WritableStream): number {
  if (!configPath) {
    err.write(`allbit validate: --config FILE is required\n\n${COMMAND_HELP.validate}`);
    return 1;
  }
  try {
    const config = loadConfigFile(configPath);
    const tags = config.devices.reduce((n, d) => n + d.tags.length, 0);
    const requests = requestsPerCycle(config);
    const calculated = config.devices.filter((d) => d.connection.protocol === 'calc').length;
    const devices = `${config.devices.length - calculated} devices${calculated > 0 ? ` (+ ${calculated} calculated)` : ''}`;
    out.write(`${config.file}: OK — gateway ${config.gateway.id}, ${devices}, ${tags} tags, ${requests} Modbus requests per poll cycle\n`);
    return 0;
  } catch (e) {
    if (e instanceof ConfigError) {
      err.write(`${e.message}\n`); // "FILE: N problems" and one "path (line N): message" per line
      return 1;
    }
    throw e;
  }
}

async function run(configPath: string | undefined, logLevel: string | undefined, err: NodeJS.WritableStream): Promise<number> {
  if (!configPath) {
    err.write(`allbit run: --config FILE is required\n\n${COMMAND_HELP.run}`);
    return 1;
  }
  let config;
  try {
    config = loadConfigFile(configPath);
  } catch (e) {
    if (e instanceof ConfigError) {
      err.write(`${e.message}\n`);
      return 1;
    }
    throw e;
  }
  const { runUntilSignal } = await import('./run-command.js');
  return runUntilSignal(config, { logLevel, version: VERSION, err });
}
