/**
 * `spec.backup` of a LatticeService: how Velero (velero.io) backs the service up. Lattice derives
 * only pod annotations, which Velero reads when it backs up a pod; the Backup and Schedule objects
 * (what to back up, when, where to) are the platform's, not the service's.
 *
 * Hooks (velero.io/docs/main/backup-hooks/, "Specifying Hooks As Pod Annotations"):
 * `pre.hook.backup.velero.io/{container,command,on-error,timeout}` and the same with `post.`. The
 * annotations hold one pre and one post hook per pod: Velero documents no indexed form, so a second
 * hook per phase is refused rather than written where Velero would not read it.
 *
 * Volumes (velero.io/docs/main/file-system-backup/, "To back up"): with opt-in, the pod annotation
 * `backup.velero.io/backup-volumes` lists the pod volumes to back up with File System Backup; with
 * opt-out (Velero run with `--default-volumes-to-fs-backup`), `backup.velero.io/backup-volumes-excludes`
 * lists those to leave out. Names here are the service's volume resources; Lattice writes the pod
 * volume names it derives for them.
 *
 * The shape is the original Lattice's (crates/lattice-common/src/crd/workload/backup.rs in
 * github.com/evan-hines-js/lattice).
 */
import { z } from 'zod';
import { dnsLabel, duration } from '../common.ts';

/** One backup hook: a command Velero runs in a container of the pod. */
export const backupHookSchema = z.strictObject({
  name: dnsLabel.describe('Name of the hook, for people (Velero does not read it).'),
  container: dnsLabel.describe('Container the command runs in (a name in workload.containers).'),
  command: z
    .array(z.string())
    .min(1)
    .describe('Command and arguments, run without a shell (Velero execs it): start with /bin/sh -c to use one.'),
  timeout: duration.optional().describe('How long Velero waits for the command (Velero default 30s), e.g. 600s.'),
  onError: z.enum(['Continue', 'Fail']).optional().describe('What a failing command does to the backup: Fail (Velero\'s default) or Continue.'),
});

/** A list of at most one hook (see the module comment). */
function oneHook(phase: 'pre' | 'post') {
  return z.array(backupHookSchema).superRefine((hooks, ctx) => {
    if (hooks.length > 1) {
      ctx.addIssue({ code: 'custom', message: `Velero's pod annotations hold one ${phase} hook per pod (velero.io/docs/main/backup-hooks): combine the ${hooks.length} commands into one, e.g. ["/bin/sh", "-c", "first && second"]` });
    }
  });
}

/** `spec.backup`. */
export const backupSchema = z.strictObject({
  hooks: z
    .strictObject({
      pre: oneHook('pre').optional().describe('Run before Velero backs up the pod (e.g. flush or freeze). At most one.'),
      post: oneHook('post').optional().describe('Run after the pod is backed up (e.g. unfreeze). At most one.'),
    })
    .optional()
    .describe('Commands Velero runs in the pod around its backup (pod annotations pre/post.hook.backup.velero.io/*).'),
  volumes: z
    .strictObject({
      include: z.array(dnsLabel).optional().describe('Volume resources to back up (opt-in).'),
      exclude: z.array(dnsLabel).optional().describe('Volume resources to leave out (opt-out).'),
      defaultPolicy: z
        .enum(['opt-out', 'opt-in'])
        .default('opt-out')
        .describe('opt-out (default; Velero run with --default-volumes-to-fs-backup backs every volume up, exclude lists exceptions) or opt-in (only include is backed up).'),
    })
    .optional()
    .describe('Which volumes Velero\'s File System Backup copies (pod annotations backup.velero.io/backup-volumes or backup-volumes-excludes).'),
});

/** `spec.backup`, with defaults applied. */
export type Backup = z.output<typeof backupSchema>;
