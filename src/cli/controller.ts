/**
 * `lattice controller`: run the operator against a cluster (src/controller/). Connection from
 * `--kubeconfig`, `$KUBECONFIG`, `~/.kube/config` or the pod's service account. Logs are JSON lines
 * (pino) on stdout. SIGTERM or SIGINT drain the queue, release the leader Lease and exit 0; losing
 * the Lease exits 1 (Kubernetes restarts the container, which then stands by); bad flags or no
 * cluster exit 2.
 */
import { Option, type Command } from 'commander';
import { formatDuration, parseDuration } from '../controller/duration.ts';
import { parseListen } from '../controller/http.ts';
import { DEFAULT_RATE_LIMITS } from '../controller/queue.ts';
import { DEFAULT_TIMINGS, type ControllerTimings } from '../controller/timings.ts';
import { PLATFORM_NAMESPACE } from '../api/constants.ts';
import { EXIT } from './exit.ts';
import type { Streams } from './render.ts';

/** Parsed flags of `lattice controller`. */
interface ControllerFlags {
  kubeconfig?: string;
  context?: string;
  identity?: string;
  leaderElect: boolean;
  leaseNamespace: string;
  leaseName: string;
  leaseDuration: string;
  renewDeadline: string;
  retryPeriod: string;
  resyncPeriod: string;
  concurrency: string;
  backoffBase: string;
  backoffMax: string;
  qps: string;
  burst: string;
  watchRetry: string;
  drainTimeout: string;
  listen: string;
  webhookListen: string;
  webhookCertDir: string;
  logLevel: string;
}

const DURATION_FLAGS: [keyof ControllerFlags, keyof ControllerTimings, string][] = [
  ['leaseDuration', 'leaseDurationMs', '--lease-duration'],
  ['renewDeadline', 'renewDeadlineMs', '--renew-deadline'],
  ['retryPeriod', 'retryPeriodMs', '--retry-period'],
  ['resyncPeriod', 'resyncMs', '--resync-period'],
  ['backoffBase', 'backoffBaseMs', '--backoff-base'],
  ['backoffMax', 'backoffMaxMs', '--backoff-max'],
  ['watchRetry', 'watchRetryMs', '--watch-retry'],
  ['drainTimeout', 'drainTimeoutMs', '--drain-timeout'],
];

/**
 * Checks the flags; returns the controller settings or the problems (each says what to write).
 * `leaderSettingsProblem` comes from `controller/leader.ts`, passed in because that module loads the
 * Kubernetes client, which `lattice controller --help` does without.
 */
function settingsFrom(flags: ControllerFlags, leaderSettingsProblem: (t: ControllerTimings) => string | undefined): { ok: true; timings: ControllerTimings; concurrency: number; qps: number; burst: number; listen: { host: string; port: number } | false; webhook: { host: string; port: number } | false } | { ok: false; problems: string[] } {
  const problems: string[] = [];
  const timings = { ...DEFAULT_TIMINGS };
  for (const [flag, key, name] of DURATION_FLAGS) {
    const parsed = parseDuration(String(flags[flag]));
    if (!parsed.ok) problems.push(`${name}: ${parsed.error}`);
    else if (parsed.ms <= 0) problems.push(`${name}: must be longer than 0`);
    else timings[key] = parsed.ms;
  }
  const positive = (text: string, name: string): number => {
    const n = Number(text);
    if (!Number.isFinite(n) || n <= 0) problems.push(`${name}: "${text}" must be a number above 0`);
    return n;
  };
  const concurrency = positive(flags.concurrency, '--concurrency');
  if (Number.isFinite(concurrency) && !Number.isInteger(concurrency)) problems.push(`--concurrency: "${flags.concurrency}" must be a whole number`);
  const qps = positive(flags.qps, '--qps');
  const burst = positive(flags.burst, '--burst');
  if (flags.leaderElect) {
    const problem = leaderSettingsProblem(timings);
    if (problem) problems.push(`--lease-duration ${formatDuration(timings.leaseDurationMs)}, --renew-deadline ${formatDuration(timings.renewDeadlineMs)}, --retry-period ${formatDuration(timings.retryPeriodMs)}: ${problem}`);
  }
  let listen: { host: string; port: number } | false = false;
  if (flags.listen !== 'off') {
    try {
      listen = parseListen(flags.listen);
    } catch (err) {
      problems.push(`--listen: ${(err as Error).message}`);
    }
  }
  let webhook: { host: string; port: number } | false = false;
  if (flags.webhookListen !== 'off') {
    try {
      webhook = parseListen(flags.webhookListen);
    } catch (err) {
      problems.push(`--webhook-listen: ${(err as Error).message}`);
    }
  }
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, timings, concurrency, qps, burst, listen, webhook };
}

/** Runs the controller until a signal or the loss of the Lease; resolves to the exit status. */
async function runController(flags: ControllerFlags, streams: Streams): Promise<number> {
  // pino is CommonJS: its `default` export is the function in Node.js and in the bundle alike (the bundle's
  // chunk for a dynamically imported CommonJS module exports only `default`).
  const [{ default: pino }, { Controller, defaultIdentity }, { loadKubeConfig }, { leaderSettingsProblem }] = await Promise.all([
    import('pino'),
    import('../controller/controller.ts'),
    import('../controller/kube.ts'),
    import('../controller/leader.ts'),
  ]);
  const settings = settingsFrom(flags, leaderSettingsProblem);
  if (!settings.ok) {
    for (const p of settings.problems) streams.stderr(`error: ${p}\n`);
    return EXIT.usage;
  }
  let kc;
  let source;
  try {
    const opts: { kubeconfig?: string; context?: string } = {};
    if (flags.kubeconfig !== undefined) opts.kubeconfig = flags.kubeconfig;
    if (flags.context !== undefined) opts.context = flags.context;
    ({ kc, source } = loadKubeConfig(opts));
  } catch (err) {
    streams.stderr(`error: ${(err as Error).message}\n`);
    return EXIT.usage;
  }
  const logger = pino({ level: flags.logLevel, base: { component: 'lattice-controller' }, timestamp: pino.stdTimeFunctions.isoTime });
  const controller = new Controller({
    kubeConfig: kc,
    identity: flags.identity ?? defaultIdentity(),
    leaderElection: flags.leaderElect,
    leaseNamespace: flags.leaseNamespace,
    leaseName: flags.leaseName,
    concurrency: settings.concurrency,
    qps: settings.qps,
    burst: settings.burst,
    timings: settings.timings,
    listen: settings.listen,
    logger,
  });
  logger.info({ cluster: kc.getCurrentCluster()?.server, configFrom: source }, 'connecting');
  // The conversion webhook serves on every replica, leader or not, from the start (src/controller/conversion.ts).
  let webhook: { url: string; close(): Promise<void> } | undefined;
  if (settings.webhook) {
    const { serveConversionWebhook } = await import('../controller/conversion.ts');
    try {
      webhook = await serveConversionWebhook(settings.webhook, { certDir: flags.webhookCertDir }, (err) => logger.warn({ err: err.message }, 'webhook certificate reload failed; keeping the previous one'));
      logger.info({ url: webhook.url }, 'conversion webhook listening');
    } catch (err) {
      streams.stderr(`error: --webhook-listen: ${(err as Error).message}\n`);
      return EXIT.usage;
    }
  }
  const onSignal = (signal: NodeJS.Signals): void => {
    logger.info({ signal }, 'signal received');
    void controller.stop();
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  // The process lives until a signal or the loss of the Lease. The controller's own retry timers do not
  // keep Node.js running (with --listen off and no API server reachable, Node exited with status 13,
  // "unsettled top-level await", between two watch retries), so hold the event loop open here.
  const keepAlive = setInterval(() => undefined, 2 ** 30);
  try {
    await controller.start();
    const reason = await controller.done;
    return reason === 'stopped' ? EXIT.ok : EXIT.failed;
  } finally {
    await webhook?.close();
    clearInterval(keepAlive);
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
  }
}

/** Registers `lattice controller`. */
export function registerController(program: Command, setExit: (code: number) => void, streams: Streams): void {
  const d = (key: keyof ControllerTimings): string => formatDuration(DEFAULT_TIMINGS[key]);
  program
    .command('controller')
    .description('Run the operator: watch LatticeServices and the platform resources, derive continuously, apply to the cluster.')
    .option('--kubeconfig <path>', 'kubeconfig file (default: $KUBECONFIG, else ~/.kube/config, else the pod\'s service account)')
    .option('--context <name>', 'kubeconfig context to use (default: its current-context)')
    .option('--identity <id>', 'holder identity in the leader Lease and reportingInstance of Events (default: <hostname>_<random>; the install sets the pod name)')
    .option('--no-leader-elect', 'reconcile without leader election (run a single replica only)')
    .option('--lease-namespace <namespace>', 'namespace of the leader Lease', PLATFORM_NAMESPACE)
    .option('--lease-name <name>', 'name of the leader Lease', 'lattice-controller')
    .option('--lease-duration <duration>', 'how long other replicas respect a Lease that stopped being renewed', d('leaseDurationMs'))
    .option('--renew-deadline <duration>', 'how long the leader keeps leading without renewing (shorter than --lease-duration)', d('renewDeadlineMs'))
    .option('--retry-period <duration>', 'time between attempts to take or renew the Lease (shorter than --renew-deadline)', d('retryPeriodMs'))
    .option('--resync-period <duration>', 'every this often, reconcile every service again (corrects drift)', d('resyncMs'))
    .option('--concurrency <n>', 'most reconciles at once', '4')
    .option('--backoff-base <duration>', 'first retry delay after a failed reconcile; doubles per failure', d('backoffBaseMs'))
    .option('--backoff-max <duration>', 'longest retry delay after failed reconciles', d('backoffMaxMs'))
    .option('--qps <n>', 'retries per second across all keys (token bucket rate)', String(DEFAULT_RATE_LIMITS.qps))
    .option('--burst <n>', 'retries allowed at once before --qps applies (token bucket size)', String(DEFAULT_RATE_LIMITS.burst))
    .option('--watch-retry <duration>', 'first delay before restarting a failed watch; doubles up to 30x', d('watchRetryMs'))
    .option('--drain-timeout <duration>', 'on SIGTERM, how long to finish queued reconciles before releasing the Lease', d('drainTimeoutMs'))
    .option('--listen <address>', 'host:port of /healthz, /readyz and /metrics, or "off"', ':8080')
    .option('--webhook-listen <address>', 'host:port of the CRD conversion webhook (HTTPS, POST /convert), or "off"', 'off')
    .option('--webhook-cert-dir <dir>', 'folder with the webhook\'s serving certificate, tls.crt and tls.key (re-read when renewed)', '/var/run/lattice/webhook-tls')
    .addOption(new Option('--log-level <level>', 'least severe log level written').choices(['trace', 'debug', 'info', 'warn', 'error', 'fatal']).default('info'))
    .addHelpText('after', `
Durations are Go durations: 500ms, 15s, 10m, 1h30m. Logs: JSON lines on stdout; lines about a
service carry its key ("service": "namespace/name"). Exit status: 0 after SIGTERM/SIGINT (queue
drained, Lease released), 1 when the Lease was lost, 2 bad flags or no cluster to connect to.
Install the operator in a cluster with: lattice install | kubectl apply -f -`)
    .action(async (flags: ControllerFlags) => {
      setExit(await runController(flags, streams));
    });
}
