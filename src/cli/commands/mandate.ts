import { writeFileSync } from "node:fs";
import type { Command } from "commander";
import { parseAmount } from "../../amounts";
import { InvalidInputError } from "../../errors";
import { ExitWithCode, action } from "../action";
import type { CliContext } from "../context";
import { table } from "../output";
import { collect, parseCount, parseTime, readTextFile } from "../parse";
/** The AP2 library, loaded when a mandate command runs: SD-JWT and zod stay out of every other command's start. */
// eslint-disable-next-line @typescript-eslint/no-require-imports
export const ap2 = () => require("../../ap2") as typeof import("../../ap2");

const FREQUENCIES = ["ON_DEMAND", "DAILY", "WEEKLY", "BIWEEKLY", "MONTHLY", "QUARTERLY", "ANNUALLY"] as const;

/** A JWK file (`netd mandate key` writes them). */
export function readJwkFile(file: string, what: string): Record<string, unknown> {
  const text = readTextFile(file, what);
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new InvalidInputError(`${what} ${file} is not a JSON Web Key (not JSON)`);
  }
}

/** A private key file (JWK with `d`), for signing; a public key is refused, saying what `needs` it. */
export function readPrivateJwkFile(file: string, what: string, needs: string): import("../../ap2").PrivateJwk {
  const key = readJwkFile(file, what);
  if (typeof key.d !== "string") throw new InvalidInputError(`${what} ${file} is a public key; ${needs}`);
  return key as import("../../ap2").PrivateJwk;
}

/** A signed mandate file: its SD-JWT text. */
export function readMandateFile(file: string): string {
  return readTextFile(file, "the mandate").trim();
}

/**
 * The agent's wallet for `--mandate <file> --agent-key <file> [--ledger <file>]` (`pay`, `x402 buy`), or undefined
 * without `--mandate`; the flags given without it are bad input.
 */
export async function mandateFromOptions(o: {
  mandate?: string;
  checkoutMandate?: string;
  agentKey?: string;
  ledger?: string;
}): Promise<Awaited<ReturnType<ReturnType<typeof ap2>["MandateWallet"]["open"]>> | undefined> {
  if (o.mandate === undefined) {
    if (o.agentKey !== undefined || o.ledger !== undefined || o.checkoutMandate !== undefined)
      throw new InvalidInputError("--agent-key, --checkout-mandate and --ledger are for --mandate");
    return undefined;
  }
  if (o.agentKey === undefined) throw new InvalidInputError("--mandate needs --agent-key (the agent's key it names)");
  return ap2().MandateWallet.open({
    mandate: readMandateFile(o.mandate),
    ...(o.checkoutMandate !== undefined ? { checkout: readMandateFile(o.checkoutMandate) } : {}),
    agentKey: readJwkFile(o.agentKey, "--agent-key") as never,
    ledgerFile: o.ledger ?? `${o.mandate.replace(/\.sdjwt$/, "")}.ledger.json`,
  });
}

/** The `--mandate`, `--agent-key` and `--ledger` options of a paying command. */
export function addMandateOptions(command: Command): Command {
  return command
    .option("--mandate <file>", "pay under this signed AP2 open payment mandate (exact only): refused before signing when outside it")
    .option("--agent-key <file>", "with --mandate: the agent's private key (JWK) that the mandate names")
    .option("--checkout-mandate <file>", "with --mandate: a signed open checkout mandate, to buy from merchants that sell by checkout (AP2)")
    .option("--ledger <file>", "with --mandate: what was spent under it, kept across runs (default <mandate>.ledger.json)");
}

/** "0xabc…" or "0xabc…=name" → an AP2 payee on `network`. */
function parsePayeeOption(input: string, network: string): ReturnType<ReturnType<typeof ap2>["payeeOf"]> {
  const [address, ...name] = input.split("=");
  return ap2().payeeOf(network, address.trim(), name.length ? name.join("=").trim() : undefined);
}

function writeNew(file: string, text: string, what: string, mode?: number): void {
  try {
    writeFileSync(file, text, { flag: "wx", ...(mode ? { mode } : {}) });
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code === "EEXIST") throw new InvalidInputError(`${what} ${file} already exists; nothing was written`);
    throw new InvalidInputError(`${what} ${file} could not be written: ${(cause as Error).message}`, { cause });
  }
}

/** `netd mandate key|create|sign|verify`: AP2 mandates, a person's signed limits on what an agent may pay. */
export function registerMandateCommands(program: Command): void {
  const mandate = program
    .command("mandate")
    .description("AP2 mandates: a person's signed limits on what an agent pays (amount, budget, payees, dates), bound to each payment");

  mandate
    .command("key")
    .description("create an ES256 (P-256) key for signing mandates: the person's, or the agent's (named in a mandate's cnf)")
    .requiredOption("--out <file>", "where to write the private key (JWK, mode 600; never overwritten)")
    .option("--public-out <file>", "also write the public key here (to give to whoever makes the mandate, or to a merchant)")
    .addHelpText("after", "\nExample:\n  $ netd mandate key --out agent.jwk --public-out agent.pub.jwk")
    .action(
      action((ctx) => async (o: { out: string; publicOut?: string }) => {
        const { privateJwk, publicJwk } = ap2().generateMandateKey();
        writeNew(o.out, `${JSON.stringify(privateJwk, null, 2)}\n`, "the key file", 0o600);
        if (o.publicOut) writeNew(o.publicOut, `${JSON.stringify(publicJwk, null, 2)}\n`, "the public key file");
        const kid = await ap2().keyThumbprint(publicJwk);
        ctx.out.result(table([["private key", o.out], ...(o.publicOut ? ([["public key", o.publicOut]] as [string, string][]) : []), ["thumbprint", kid]]), {
          command: "mandate key",
          file: o.out,
          publicFile: o.publicOut ?? null,
          publicJwk,
          thumbprint: kid,
        });
      }),
    );

  mandate
    .command("create")
    .description("write an open payment mandate (mandate.payment.open.1) for an agent's key, with the limits given; sign it with `mandate sign`")
    .requiredOption("--agent <file>", "the agent's public key (JWK), which alone can spend under the mandate")
    .option("--max <dollars>", "the most per payment (payment.amount_range)")
    .option("--min <dollars>", "the least per payment")
    .option("--budget <dollars>", "the most in total over every payment (payment.budget)")
    .option("--payee <address[=name]>", "a merchant it may pay (repeat; payment.allowed_payees)", collect, [])
    .option("--network <caip2>", "the network the payees are on", "eip155:31337")
    .option("--days <n>", "valid from now for n days (sets not_before, not_after and exp)")
    .option("--not-before <time>", "not usable before (UTC, e.g. 2026-12-01T00:00:00Z)")
    .option("--not-after <time>", "not usable after")
    .option("--recurrence <frequency>", `how often it may be used: ${FREQUENCIES.join(", ")} (default ON_DEMAND with a budget)`)
    .option("--max-occurrences <n>", "how many payments at most")
    .option("--out <file>", "where to write it (default stdout)")
    .addHelpText(
      "after",
      "\nExample (up to $5 in all, $1 a payment, two merchants, this week):\n" +
        "  $ netd mandate create --agent agent.pub.jwk --max 1 --budget 5 --payee 0x90F79bf6EB2c4f870365E785982E1f101E93b906=weather --payee 0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65=jokes --days 7 --out mandate.json",
    )
    .action(
      action(
        (ctx) =>
          async (o: {
            agent: string;
            max?: string;
            min?: string;
            budget?: string;
            payee: string[];
            network: string;
            days?: string;
            notBefore?: string;
            notAfter?: string;
            recurrence?: string;
            maxOccurrences?: string;
            out?: string;
          }) => {
            if (!/^eip155:\d+$/.test(o.network)) throw new InvalidInputError(`--network "${o.network}" is not a CAIP-2 eip155 network such as eip155:31337`);
            if (o.days !== undefined && (o.notBefore !== undefined || o.notAfter !== undefined))
              throw new InvalidInputError("--days sets the dates: give it or --not-before/--not-after, not both");
            const now = Date.now();
            const days = o.days === undefined ? undefined : parseCount(o.days, "--days", 3650);
            const notBefore = o.notBefore !== undefined ? new Date(Number(parseTime(o.notBefore, "--not-before")) * 1000) : days ? new Date(now) : undefined;
            const notAfter =
              o.notAfter !== undefined ? new Date(Number(parseTime(o.notAfter, "--not-after")) * 1000) : days ? new Date(now + days * 86_400_000) : undefined;
            if (notBefore && notAfter && notAfter <= notBefore) throw new InvalidInputError("--not-after must be after --not-before");
            const frequency = o.recurrence?.toUpperCase();
            if (frequency !== undefined && !FREQUENCIES.includes(frequency as never))
              throw new InvalidInputError(`--recurrence "${o.recurrence}" is not one of ${FREQUENCIES.join(", ")}`);
            const maxOccurrences = o.maxOccurrences === undefined ? undefined : parseCount(o.maxOccurrences, "--max-occurrences", 1_000_000);
            const doc = ap2().openPaymentMandate({
              agentKey: ap2().publicJwkOf(readJwkFile(o.agent, "--agent")),
              maxAmount: o.max === undefined ? undefined : parseAmount(o.max, "--max"),
              minAmount: o.min === undefined ? undefined : parseAmount(o.min, "--min"),
              budget: o.budget === undefined ? undefined : parseAmount(o.budget, "--budget"),
              payees: o.payee.map((p) => parsePayeeOption(p, o.network)),
              notBefore,
              notAfter,
              expiresAt: notAfter,
              recurrence: frequency || maxOccurrences ? { frequency: (frequency ?? "ON_DEMAND") as never, maxOccurrences } : undefined,
            });
            ctx.out.document(doc, { out: o.out, message: `Open payment mandate with ${doc.constraints.length} constraint(s)`, command: "mandate create" });
          },
      ),
    );

  mandate
    .command("create-checkout")
    .description("write an open checkout mandate (mandate.checkout.open.1): which merchants an agent may buy from and what; sign it with `mandate sign`")
    .requiredOption("--agent <file>", "the agent's public key (JWK), which alone can close the mandate")
    .requiredOption("--item <id=title>", "an item it may buy (repeat: any one of them fills the line; checkout.line_items)", collect, [])
    .option("--quantity <n>", "how many of it the checkout holds", "1")
    .option("--merchant <address[=name]>", "a merchant it may buy from (repeat; checkout.allowed_merchants; default any)", collect, [])
    .option("--network <caip2>", "the network the merchants are paid on", "eip155:31337")
    .option("--days <n>", "valid from now for n days (sets exp)")
    .option("--out <file>", "where to write it (default stdout)")
    .addHelpText(
      "after",
      "\nExample (one market report, from one merchant, this week):\n" +
        '  $ netd mandate create-checkout --agent agent.pub.jwk --item report="a market report" --merchant 0x90F79bf6EB2c4f870365E785982E1f101E93b906 --days 7 --out checkout.json',
    )
    .action(
      action((ctx) => async (o: { agent: string; item: string[]; quantity: string; merchant: string[]; network: string; days?: string; out?: string }) => {
        if (!/^eip155:\d+$/.test(o.network)) throw new InvalidInputError(`--network "${o.network}" is not a CAIP-2 eip155 network such as eip155:31337`);
        if (!o.item.length) throw new InvalidInputError("--item is required: what the agent may buy (id=title)");
        const acceptable = o.item.map((item) => {
          const at = item.indexOf("=");
          if (at <= 0 || at === item.length - 1)
            throw new InvalidInputError(`--item "${item}" is not id=title`, { details: 'e.g. --item report="a market report"' });
          return { id: item.slice(0, at).trim(), title: item.slice(at + 1).trim() };
        });
        const days = o.days === undefined ? undefined : parseCount(o.days, "--days", 3650);
        const doc = ap2().openCheckoutMandate({
          agentKey: ap2().publicJwkOf(readJwkFile(o.agent, "--agent")),
          merchants: o.merchant.map((m) => parsePayeeOption(m, o.network)),
          lineItems: [{ id: "line_1", acceptable, quantity: parseCount(o.quantity, "--quantity", 1_000_000) }],
          expiresAt: days ? new Date(Date.now() + days * 86_400_000) : undefined,
        });
        ctx.out.document(doc, {
          out: o.out,
          message: `Open checkout mandate with ${doc.constraints.length} constraint(s)`,
          command: "mandate create-checkout",
        });
      }),
    );

  mandate
    .command("sign")
    .description("sign a mandate document (any of the four AP2 v0.2 mandates) with your key: an SD-JWT (ES256) to give to the agent")
    .argument("<file>", "the mandate document (JSON), e.g. from `mandate create`")
    .requiredOption("--key <file>", "your private key (JWK, from `mandate key`)")
    .option("--out <file>", "where to write the signed mandate (default stdout)")
    .addHelpText("after", "\nExample:\n  $ netd mandate sign mandate.json --key me.jwk --out mandate.sdjwt")
    .action(
      action((ctx) => async (file: string, o: { key: string; out?: string }) => {
        let doc: unknown;
        try {
          doc = JSON.parse(readTextFile(file, "the mandate document"));
        } catch (error) {
          if (error instanceof InvalidInputError) throw error;
          throw new InvalidInputError(`the mandate document ${file} is not JSON`);
        }
        const key = readPrivateJwkFile(o.key, "--key", "signing needs the private key (the file `mandate key --out` wrote)");
        const token = await ap2().signMandate(doc, key);
        const kid = await ap2().keyThumbprint(ap2().publicJwkOf(key));
        if (o.out) {
          writeFileSync(o.out, `${token}\n`);
          ctx.out.result([`Signed by key ${kid}; written to ${o.out}`], { command: "mandate sign", file: o.out, signer: kid, mandate: token });
        } else if (ctx.out.json) ctx.out.result([], { command: "mandate sign", signer: kid, mandate: token });
        else process.stdout.write(`${token}\n`);
      }),
    );

  mandate
    .command("verify")
    .description(
      "verify a signed mandate, or a payment's mandate chain (open + closed); with --on-chain, find the payment it executed and check it paid what the mandate says",
    )
    .argument("<file>", "a signed mandate, a payment's chain, or an agent's ledger (`pay --mandate` keeps one: every payment in it is checked on chain)")
    .option("--issuer <file>", "the public key that must have signed the mandate (JWK; default: the key it names)")
    .option("--on-chain", "find the payment (AuthorizationUsed with the chain's hash as nonce) and check payee and amount")
    .addHelpText(
      "after",
      "\nExit codes: 0 valid (and, with --on-chain, paid as mandated), 1 no such payment or it does not match, 2 the mandate is invalid.\n\nExamples:\n" +
        "  $ netd mandate verify mandate.sdjwt --issuer me.pub.jwk\n" +
        "  $ netd mandate verify payment.chain --on-chain --json\n" +
        "  $ netd mandate verify mandate.ledger.json",
    )
    .action(
      action((ctx) => async (file: string, o: { issuer?: string; onChain?: boolean }) => {
        const text = readMandateFile(file);
        const issuers = o.issuer ? [ap2().publicJwkOf(readJwkFile(o.issuer, "--issuer"))] : undefined;
        if (text.startsWith("{")) return auditLedger(ctx, file, text, issuers);
        const hops = ap2().splitChain(text);
        if (hops.length === 1) {
          if (o.onChain) throw new InvalidInputError("--on-chain needs a payment's chain (open + closed mandate), not a mandate alone");
          const v = await ap2().verifyMandate(text, { issuers });
          ctx.out.result(
            [
              `Valid ${v.mandate.vct}, signed by key ${v.issuerKid}${v.trustedIssuer ? " (the --issuer given)" : " (the key it names: give --issuer to require yours)"}`,
              ...describeMandate(v.mandate),
            ],
            { command: "mandate verify", valid: true, vct: v.mandate.vct, issuer: v.issuerKid, trustedIssuer: v.trustedIssuer, mandate: v.mandate },
          );
          return;
        }
        if (!o.onChain) {
          const v = await ap2().verifyPaymentMandateChain(text, { issuers });
          ctx.out.result(
            [
              `Valid payment mandate chain: issuer ${v.issuerKid}, agent ${v.agentKid}`,
              ...table([
                ["pays", `$${(v.closed.payment_amount.amount / 100).toFixed(2)} to ${v.closed.payee.id ?? v.closed.payee.name}`],
                ["for", v.aud],
                ["payment nonce", v.paymentNonce],
              ]),
            ],
            { command: "mandate verify", valid: true, issuer: v.issuerKid, agent: v.agentKid, closed: v.closed, open: v.open, paymentNonce: v.paymentNonce },
          );
          return;
        }
        const deployment = await ctx.deployment();
        const progress = ctx.progress();
        const fromBlock = deployment.contracts.NetDollar.blockNumber;
        const audit = await ap2().auditMandatePayment({
          provider: await ctx.provider(),
          token: deployment.contracts.NetDollar.address,
          chain: text,
          fromBlock,
          verify: { issuers },
          onProgress: (scannedTo) => progress?.update({ fromBlock, toBlock: scannedTo, scannedTo }),
        });
        progress?.done();
        const ok = audit.problems.length === 0;
        ctx.out.result(
          [
            ok ? "Paid as mandated" : "NOT paid as mandated",
            ...table([
              ["mandate", `issuer ${audit.mandate.issuerKid}, agent ${audit.mandate.agentKid}`],
              ["says", `$${(audit.mandate.closed.payment_amount.amount / 100).toFixed(2)} to ${audit.mandate.closed.payee.id}`],
              ["nonce", audit.mandate.paymentNonce],
              ...(audit.onChain
                ? ([
                    ["transaction", `${audit.onChain.transaction} (block ${audit.onChain.blockNumber})`],
                    ["paid", `${audit.onChain.value ?? "?"} base units from ${audit.onChain.payer} to ${audit.onChain.to ?? "?"}`],
                  ] as [string, string][])
                : []),
            ]),
            ...audit.problems.map((p) => `problem: ${p}`),
          ],
          {
            command: "mandate verify",
            valid: true,
            paidAsMandated: ok,
            onChain: audit.onChain ?? null,
            problems: audit.problems,
            paymentNonce: audit.mandate.paymentNonce,
          },
        );
        if (!ok) throw new ExitWithCode(1);
      }),
    );
}

/** `mandate verify <ledger> `: every payment an agent's ledger lists, found on chain and checked against its chain. */
async function auditLedger(
  ctx: CliContext,
  file: string,
  text: string,
  issuers: ReturnType<ReturnType<typeof ap2>["publicJwkOf"]>[] | undefined,
): Promise<void> {
  let payments: { chain?: unknown }[];
  try {
    payments = (JSON.parse(text) as { payments?: { chain?: unknown }[] }).payments ?? [];
    if (!Array.isArray(payments) || payments.some((p) => typeof p.chain !== "string")) throw new Error("payments");
  } catch {
    throw new InvalidInputError(`${file} is neither a mandate (an SD-JWT) nor an agent's mandate ledger (JSON with payments[].chain)`);
  }
  const deployment = await ctx.deployment();
  const provider = await ctx.provider();
  const rows: string[] = [];
  const results = [];
  for (const p of payments) {
    const audit = await ap2().auditMandatePayment({
      provider,
      token: deployment.contracts.NetDollar.address,
      chain: p.chain as string,
      fromBlock: deployment.contracts.NetDollar.blockNumber,
      verify: { issuers },
    });
    const says = `$${(audit.mandate.closed.payment_amount.amount / 100).toFixed(2)} to ${audit.mandate.closed.payee.id}`;
    rows.push(
      `${audit.problems.length ? "NOT OK" : "ok    "}  ${says}  ${audit.onChain?.transaction ?? "(not on chain)"}${audit.problems.length ? `  ${audit.problems.join("; ")}` : ""}`,
    );
    results.push({ paymentNonce: audit.mandate.paymentNonce, onChain: audit.onChain ?? null, problems: audit.problems });
  }
  const bad = results.filter((r) => r.problems.length).length;
  ctx.out.result([...rows, `${payments.length - bad} of ${payments.length} payment(s) paid as mandated`], {
    command: "mandate verify",
    payments: results,
    paidAsMandated: bad === 0,
  });
  if (bad) throw new ExitWithCode(1);
}

/** One line per constraint, in words. */
function describeMandate(m: { constraints?: unknown[]; exp?: number; cnf?: unknown }): string[] {
  const lines = (m.constraints ?? []).map((c) => `  ${JSON.stringify(c)}`);
  if (m.exp !== undefined) lines.push(`  expires ${new Date(m.exp * 1000).toISOString()}`);
  return lines;
}
