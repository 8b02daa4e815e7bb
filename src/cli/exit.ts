/**
 * Exit statuses of every command: 0 success, 1 a service, policy or check failed, 2 bad invocation or
 * unreadable input, 3 internal error (a bug). A leaf module, so the command tree loads without the
 * compiler (see `main.ts`: implementations load on demand).
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, internal: 3 } as const;
