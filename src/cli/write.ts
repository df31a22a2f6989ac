import { formatUnits } from "ethers";
import { formatDollars } from "../amounts";
import { simulate, send, type WriteMethod, type WriteResult } from "../tx";
import type { CliContext } from "./context";
import { table } from "./output";

/** The state a write leaves behind, shown after it: rows for people, fields for --json. */
export interface ResultingState {
  rows: [string, string][];
  data: Record<string, unknown>;
}

/** Parameters of {@link runWrite}. */
export interface RunWriteParameters<A extends unknown[]> {
  command: string;
  /** What will be sent, in words: shown in the confirmation prompt and the result. */
  summary: string;
  method: WriteMethod<A>;
  args: A;
  /** Reads the resulting state once the transaction is mined. */
  after: () => Promise<ResultingState>;
}

/**
 * Every write the CLI makes goes through here: simulate (a revert is printed in plain words and nothing is
 * sent), confirm unless --yes, send, wait for the receipt, then print the transaction hash, gas used and the
 * resulting state.
 */
export async function runWrite<A extends unknown[]>(ctx: CliContext, params: RunWriteParameters<A>): Promise<WriteResult> {
  const decode = await ctx.decodeContext();
  await simulate(params.method, params.args, decode);
  const gas = await params.method.estimateGas?.(...params.args).catch(() => undefined);
  const signer = await ctx.signer();
  const where = table([
    ["chain", `${await ctx.chainId()} at ${ctx.rpcUrl()}`],
    ["signer", signer.address],
    ["gas", gas !== undefined ? `about ${gas.toLocaleString("en-US")}` : "(could not be estimated)"],
  ]);
  await ctx.confirm([params.summary, ...where].join("\n"));
  const result = await send(params.method, params.args, decode, { onSent: (hash) => ctx.out.note(`sent ${hash}, waiting for 1 confirmation`) });
  const state = await params.after();
  ctx.out.result(
    [
      `${params.summary}: done`,
      ...table([["transaction", result.hash], ["block", String(result.blockNumber)], ["gas used", result.gasUsed.toLocaleString("en-US")], ...state.rows]),
    ],
    { command: params.command, transaction: result, ...state.data },
  );
  return result;
}

/**
 * Makes sure `spender` may take `amount` of the configured key's NET Dollar: if the allowance is short, approves
 * exactly `amount` (simulated first, confirmed unless --yes). Returns the transaction hash, or null when none was needed.
 */
export async function ensureAllowance(ctx: CliContext, spender: string, amount: bigint, spenderName: string, purpose = ""): Promise<string | null> {
  const token = await ctx.tokenAsSigner();
  const owner = (await ctx.signer()).address;
  if ((await token.allowance(owner, spender)) >= amount) return null;
  const decode = await ctx.decodeContext();
  await simulate(token.approve, [spender, amount], decode);
  await ctx.confirm(`Approve ${spenderName} ${spender} to take ${formatDollars(amount, decode.symbol)}${purpose ? ` ${purpose}` : ""}`);
  const result = await send(token.approve, [spender, amount], decode, { onSent: (hash) => ctx.out.note(`sent approval ${hash}, waiting for 1 confirmation`) });
  return result.hash;
}

/** "12.5" style for other tokens' amounts. */
export function formatTokenAmount(units: bigint, decimals: number, symbol: string): string {
  return `${formatUnits(units, decimals)} ${symbol}`;
}
