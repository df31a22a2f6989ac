/**
 * A merchant agent's A2A tasks in the database (PostgreSQL or PGlite, see ../db.ts) instead of the SDK's memory: a
 * task waiting for payment survives a restart, so the shopper's payment in that task is taken and the work done.
 */
import type { ListTasksRequest, ListTasksResponse, Task } from "@a2a-js/sdk" with { "resolution-mode": "import" };
import type { ServerCallContext, TaskStore } from "@a2a-js/sdk/server" with { "resolution-mode": "import" };
import type * as A2ACore from "@a2a-js/sdk" with { "resolution-mode": "import" };
import type * as A2AServer from "@a2a-js/sdk/server" with { "resolution-mode": "import" };
import type { Database } from "../db";
import { InvalidInputError } from "../errors";

/* eslint-disable @typescript-eslint/no-require-imports */
const core = () => require("@a2a-js/sdk") as typeof A2ACore;
const server = () => require("@a2a-js/sdk/server") as typeof A2AServer;
/* eslint-enable @typescript-eslint/no-require-imports */

/** The most tasks one page lists (the protocol's maximum), and the default. */
const MAX_PAGE = 100;
const DEFAULT_PAGE = 50;

/** A page token: where the previous page ended, in the listing's order (newest status first, then task id). */
function encodeToken(statusAt: string, id: string): string {
  return Buffer.from(JSON.stringify([statusAt, id])).toString("base64url");
}
function decodeToken(token: string): [string, string] {
  try {
    const parsed = JSON.parse(Buffer.from(token, "base64url").toString("utf8")) as unknown;
    if (Array.isArray(parsed) && parsed.length === 2 && parsed.every((p) => typeof p === "string")) return parsed as [string, string];
  } catch {
    // not ours: refused below
  }
  throw new InvalidInputError(`page token "${token}" was not given by this agent`);
}

/**
 * An @a2a-js/sdk `TaskStore` on a {@link Database}: tasks are kept per tenant and owner (the SDK's user scope), as the
 * protocol's JSON, and listed newest first with the protocol's filters and pages.
 *
 * @example
 * const tasks = new DatabaseTaskStore(await openDatabase(".netd/db"));
 * const app = a2aMerchantApp(agent, skill, { tasks });
 */
export class DatabaseTaskStore implements TaskStore {
  constructor(private readonly db: Database) {}

  private scope(context: ServerCallContext): [string, string] {
    return [context.tenant ?? "", server().resolveUserScope(context)];
  }

  async save(task: Task, context: ServerCallContext): Promise<void> {
    const [tenant, owner] = this.scope(context);
    await this.db.query(
      `INSERT INTO netd_a2a_tasks (tenant, owner, task_id, context_id, state, status_at, task) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (tenant, owner, task_id) DO UPDATE SET context_id = $4, state = $5, status_at = $6, task = $7, saved_at = now()`,
      [tenant, owner, task.id, task.contextId, task.status?.state ?? 0, task.status?.timestamp ?? "", JSON.stringify(core().Task.toJSON(task))],
    );
  }

  async load(taskId: string, context: ServerCallContext): Promise<Task | undefined> {
    const [tenant, owner] = this.scope(context);
    const { rows } = await this.db.query<{ task: unknown }>(`SELECT task FROM netd_a2a_tasks WHERE tenant = $1 AND owner = $2 AND task_id = $3`, [
      tenant,
      owner,
      taskId,
    ]);
    return rows.length ? core().Task.fromJSON(parsed(rows[0].task)) : undefined;
  }

  async list(params: ListTasksRequest, context: ServerCallContext): Promise<ListTasksResponse> {
    const [tenant, owner] = this.scope(context);
    const pageSize = Math.min(Math.max(params.pageSize ?? DEFAULT_PAGE, 1), MAX_PAGE);
    const where = ["tenant = $1", "owner = $2"];
    const args: unknown[] = [tenant, owner];
    if (params.contextId) where.push(`context_id = $${args.push(params.contextId)}`);
    if (params.status !== undefined && params.status !== 0) where.push(`state = $${args.push(params.status)}`);
    if (params.statusTimestampAfter) {
      const after = new Date(params.statusTimestampAfter);
      if (Number.isNaN(after.getTime())) throw new InvalidInputError(`statusTimestampAfter "${params.statusTimestampAfter}" is not an ISO 8601 time`);
      where.push(`(CASE WHEN status_at = '' THEN NULL ELSE status_at::timestamptz END) > $${args.push(after.toISOString())}::timestamptz`);
    }
    const filter = where.join(" AND ");
    const total = await this.db.query<{ n: unknown }>(`SELECT count(*) AS n FROM netd_a2a_tasks WHERE ${filter}`, args);
    const page = [...args];
    let after = "";
    if (params.pageToken) {
      const [statusAt, id] = decodeToken(params.pageToken);
      after = ` AND (status_at, task_id) < ($${page.push(statusAt)}, $${page.push(id)})`;
    }
    const { rows } = await this.db.query<{ task: unknown; status_at: string; task_id: string }>(
      `SELECT task, status_at, task_id FROM netd_a2a_tasks WHERE ${filter}${after} ORDER BY status_at DESC, task_id DESC LIMIT $${page.push(pageSize + 1)}`,
      page,
    );
    const more = rows.length > pageSize;
    const shown = rows.slice(0, pageSize);
    const tasks = shown.map((r) => {
      const task = core().Task.fromJSON(parsed(r.task));
      return params.includeArtifacts ? task : { ...task, artifacts: [] };
    });
    const last = shown.at(-1);
    return { tasks, nextPageToken: more && last ? encodeToken(last.status_at, last.task_id) : "", pageSize, totalSize: Number(total.rows[0].n) };
  }
}

/** jsonb comes back parsed from pg and PGlite alike; a string (text) is parsed here. */
function parsed(value: unknown): never {
  return (typeof value === "string" ? JSON.parse(value) : value) as never;
}
