/**
 * The executable allow-list (`security.allowedBinaries` of a container or sidecar), enforced in the
 * kernel by Tetragon: one `TracingPolicyNamespaced` (cilium.io/v1alpha1) per container with a list,
 * which SIGKILLs any process of that container executing a file not on it.
 *
 * How it works, from Tetragon's documentation:
 * - hook: a kprobe (Tetragon attaches kprobes to kernel functions, "Hook points" in its tracing
 *   policy docs) on `security_bprm_check`, the LSM check the kernel runs in every exec once the file
 *   to run is opened (linux `fs/exec.c`, `bprm_check_security` in `include/linux/lsm_hook_defs.h`),
 *   with argument 0 (`struct linux_binprm *`) read as `linux_binprm`,
 *   which yields the full path of `linux_binprm::file`, the file being executed (the opened file,
 *   so symbolic links are resolved: the list must name real paths)
 *   (tetragon.io/docs/concepts/tracing-policy/argument_types/#linux_binprm). A script passes the
 *   check twice (the script, then its interpreter), so both must be listed;
 * - filter: `matchArgs` with operator `NotEqual` and the allowed paths: the selector matches when the
 *   executed file is none of them (tetragon.io/docs/concepts/tracing-policy/selectors/#arguments-filter);
 * - action: `Sigkill`, which "terminates synchronously the process that made the call"
 *   (…/selectors/#sigkill-action; enforcement concepts: tetragon.io/docs/concepts/enforcement/), so
 *   the forbidden program never runs;
 * - scope: the namespaced kind applies to pods of its namespace only; `podSelector` picks the
 *   workload's pods by its selector label and `containerSelector` (field `name`) the one container
 *   (tetragon.io/docs/concepts/tracing-policy/k8s-filtering/). A cluster-wide TracingPolicy with
 *   the same podSelector would also kill in pods of other namespaces carrying that label.
 *
 * `matchBinaries` with `NotIn` was not used: it filters on the binary of the process making the call
 * (the caller), so an allowed shell could still start any program.
 *
 * The list is the declared paths plus the container's `command[0]` and the first word of its exec
 * probes (both required to be absolute by the schema), as in the reference. `["*"]` derives nothing.
 * The kill needs Tetragon's enforcement enabled on the nodes; the policy changes nothing elsewhere.
 */
import { podContainers, type PodContainer } from '../../api/latticeservice/v1alpha1.ts';
import { childName, selectorLabels } from '../naming.ts';
import { derivedMeta } from '../meta.ts';
import type { DerivationState, KubeObject } from '../types.ts';

/** The kernel function the allow-list hooks. */
export const EXEC_CHECK_HOOK = 'security_bprm_check';

/** The executables a container may run, sorted: declared entries, command[0] and exec-probe commands. Undefined: no allow-list. */
export function allowedExecutables(c: PodContainer['container']): string[] | undefined {
  const declared = c.security?.allowedBinaries;
  if (declared === undefined || declared.includes('*')) return undefined;
  const out = new Set(declared);
  if (c.command?.[0] !== undefined) out.add(c.command[0]);
  for (const kind of ['livenessProbe', 'readinessProbe', 'startupProbe'] as const) {
    const head = c[kind]?.exec?.command[0];
    if (head !== undefined) out.add(head);
  }
  return [...out].sort();
}

/** Name of the TracingPolicyNamespaced of container `cname` of workload `name`. */
export function allowListPolicyName(name: string, cname: string): string {
  return childName([name, cname, 'allowed-binaries'], 253);
}

/** Derives one TracingPolicyNamespaced per container or sidecar with an allow-list. */
export function deriveExecAllowLists(state: DerivationState): void {
  const name = state.service.metadata.name;
  for (const c of podContainers(state.service.spec)) {
    const allowed = allowedExecutables(c.container);
    if (allowed === undefined) continue;
    const policy: KubeObject = {
      apiVersion: 'cilium.io/v1alpha1',
      kind: 'TracingPolicyNamespaced',
      metadata: derivedMeta(state, allowListPolicyName(name, c.name)),
      spec: {
        podSelector: { matchLabels: selectorLabels(name) },
        containerSelector: { matchExpressions: [{ key: 'name', operator: 'In', values: [c.name] }] },
        kprobes: [
          {
            call: EXEC_CHECK_HOOK,
            syscall: false,
            args: [{ index: 0, type: 'linux_binprm' }],
            selectors: [
              {
                matchArgs: [{ index: 0, operator: 'NotEqual', values: allowed }],
                matchActions: [{ action: 'Sigkill' }],
              },
            ],
          },
        ],
      },
    };
    state.objects.push(policy);
  }
}
