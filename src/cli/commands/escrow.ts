import type { Command } from "commander";
import type { ConditionalEscrow } from "../../../typechain-types";
import { formatDollars, parseAmount } from "../../amounts";
import { parseAddress, parsePayee, parsePercent, parseDuration, readTextFile } from "../parse";
import { InvalidInputError } from "../../errors";
import { toIsoSeconds } from "../../attestation/document";
import { readTokenDomain } from "../../eip712";
import { fundWithAuthorizationCall, getPaymentHistory, getPaymentStatus, signFunding, signReceipt, type PaymentEvent } from "../../escrow/actions";
import {
  Outcome,
  buildPayment,
  fromPaymentDocument,
  parseSignedPaymentDocument,
  paymentId,
  toPaymentDocument,
  toStruct,
  type Payee,
  type Payment,
} from "../../escrow/payment";
import type { WriteMethod } from "../../tx";
import { action } from "../action";
import type { CliContext } from "../context";
import { table } from "../output";
import { ensureAllowance, runWrite } from "../write";

/** Reads a payment document and checks that it belongs to this deployment's escrow and chain. */
async function loadPayment(ctx: CliContext, file: string): Promise<{ payment: Payment; id: string }> {
  let json: unknown;
  try {
    json = JSON.parse(readTextFile(file, "payment"));
  } catch (cause) {
    if (cause instanceof InvalidInputError) throw cause;
    throw new InvalidInputError(`payment ${file} is not JSON`, { details: (cause as Error).message, cause });
  }
  const { payment, escrow, chainId, id } = fromPaymentDocument(json, file);
  const deployment = await ctx.deployment();
  if (chainId !== BigInt(deployment.chainId)) throw new InvalidInputError(`${file} is for chain ${chainId}, not this deployment's chain ${deployment.chainId}`);
  const ours = deployment.contracts.ConditionalEscrow?.address;
  if (!ours || ours.toLowerCase() !== escrow.toLowerCase()) {
    // Funding sends money to the escrow a document names: only ever to the one in the trusted deployment file.
    throw new InvalidInputError(`${file} names escrow ${escrow}, not this deployment's ${ours ?? "(none)"}`);
  }
  return { payment, id };
}

async function stateRows(ctx: CliContext, escrow: ConditionalEscrow, payment: Payment) {
  const now = BigInt((await (await ctx.provider()).getBlock("latest"))!.timestamp);
  const report = await getPaymentStatus(escrow, payment, now);
  const { symbol } = await ctx.decodeContext();
  return {
    rows: [
      ["payment", report.id],
      ["status", report.statusName],
      ["held", formatDollars(report.held, symbol)],
      ["refundable", formatDollars(report.refundable, symbol)],
    ] as [string, string][],
    data: { id: report.id, status: report.statusName, held: report.held, refundable: report.refundable, possible: report.possible },
  };
}

/** Registers one escrow write command that takes a payment file. */
function paymentCommand(
  parent: Command,
  name: string,
  description: string,
  example: string,
  build: (
    ctx: CliContext,
    escrow: ConditionalEscrow,
    payment: Payment,
    args: string[],
    options: Record<string, string | undefined>,
  ) => Promise<{ summary: string; method: WriteMethod<[]> }>,
  extra: (c: Command) => Command = (c) => c,
): void {
  extra(parent.command(name).description(description).argument("<payment>", "payment file written by `netd escrow create`"))
    .addHelpText("after", `\nExample:\n  $ netd escrow ${example}`)
    .action(
      action((ctx) => async (...all: unknown[]) => {
        const file = all[0] as string;
        const rest = all.slice(1).filter((a) => typeof a === "string") as string[];
        const options = (all.find((a) => typeof a === "object" && a !== null) ?? {}) as Record<string, string | undefined>;
        const { payment } = await loadPayment(ctx, file);
        const escrow = await ctx.escrow();
        const { summary, method } = await build(ctx, escrow, payment, rest, options);
        await runWrite(ctx, { command: `escrow ${name}`, summary, method, args: [], after: () => stateRows(ctx, escrow, payment) });
      }),
    );
}

const call = <A extends unknown[]>(fn: WriteMethod<A>, ...args: A): WriteMethod<[]> =>
  Object.assign(() => fn(...args), { staticCall: () => fn.staticCall(...args) });

/** `netd escrow …`: conditional payments, "pay when delivery is confirmed". */
export function registerEscrowCommands(program: Command): void {
  const escrow = program.command("escrow").description("conditional payments held until delivery is confirmed");

  escrow
    .command("create")
    .description("write the terms of a payment to a file (sends nothing); its id is the EIP-712 hash of the terms")
    .requiredOption("--amount <dollars>", "amount to escrow")
    .requiredOption(
      "--payee <address[:bps]>",
      "a payee, with its share in basis points (repeat; equal shares when omitted)",
      (v, prev: string[]) => [...prev, v],
      [],
    )
    .option("--payer <address>", "who pays (default: the configured key)")
    .option("--verifier <address>", "confirms delivery")
    .option("--operator <address>", "may capture and void")
    .option("--arbiter <address>", "rules on disputes")
    .option("--fee-bps <min[:max]>", "fee in basis points: the minimum applies to confirmations, the operator picks up to the maximum", "0")
    .option("--fee-receiver <address>", "receives the fee")
    .option("--fund-within <duration>", "time to fund", "1h")
    .option("--confirm-within <duration>", "time after the funding deadline to confirm", "1d")
    .option("--dispute-window <duration>", "time after the confirmation deadline to dispute", "1d")
    .option("--refund-within <duration>", "time after the dispute window for rulings and refunds", "30d")
    .option("--default <outcome>", "if nobody acts: refund (to the payer) or release (to the payees)", "refund")
    .option("--out <file>", "write to a file instead of stdout")
    .addHelpText(
      "after",
      "\nExample:\n  $ netd escrow create --amount 30 --payee 0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65 --payee 0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc --verifier 0x976EA74026E726554dB657fA54763abd0C3a0aa9 --out booking.json",
    )
    .action(
      action((ctx) => async (o: Record<string, string | string[] | undefined>) => {
        const amount = parseAmount(o.amount as string);
        const payees = (o.payee as string[]).map(parsePayee);
        if (payees.some((p) => p.shareBps === undefined) && payees.some((p) => p.shareBps !== undefined)) {
          throw new InvalidInputError("give a share to every payee, or to none (equal shares)");
        }
        const [minFee, maxFee = minFee] = (o.feeBps as string).split(":").map((v) => {
          if (!/^\d+$/.test(v) || Number(v) > 10_000) throw new InvalidInputError(`--fee-bps "${o.feeBps}" is not basis points MIN or MIN:MAX`);
          return Number(v);
        });
        if (o.default !== "refund" && o.default !== "release") throw new InvalidInputError(`--default "${o.default}" is neither refund nor release`);
        const opt = (k: string) => (o[k] === undefined ? undefined : parseAddress(o[k] as string, `--${k.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase())}`));
        const fundWithin = parseDuration(o.fundWithin as string, "--fund-within");
        const confirmWithin = parseDuration(o.confirmWithin as string, "--confirm-within");
        const disputeWindow = parseDuration(o.disputeWindow as string, "--dispute-window");
        const refundWithin = parseDuration(o.refundWithin as string, "--refund-within");
        const deployment = await ctx.deployment();
        const escrowRecord = deployment.contracts.ConditionalEscrow;
        if (!escrowRecord) throw new InvalidInputError("this deployment has no ConditionalEscrow; run `netd deploy` again");
        const payer = opt("payer") ?? (await ctx.signer()).address;
        const now = BigInt((await (await ctx.provider()).getBlock("latest"))!.timestamp);
        const payment = buildPayment({
          payer,
          token: deployment.contracts.NetDollar.address,
          amount,
          payees: payees.map((p) => (p.shareBps === undefined ? p.account : (p as Payee))),
          verifier: opt("verifier"),
          operator: opt("operator"),
          arbiter: opt("arbiter"),
          minFeeBps: minFee,
          maxFeeBps: maxFee,
          feeReceiver: opt("feeReceiver"),
          now,
          fundWithin,
          confirmWithin,
          disputeWindow,
          refundWithin,
          defaultOutcome: o.default === "release" ? Outcome.Release : Outcome.Refund,
        });
        const doc = toPaymentDocument(payment, escrowRecord.address, BigInt(deployment.chainId));
        ctx.out.document(doc, { out: o.out as string | undefined, message: `Payment ${doc.id}`, command: "escrow create" });
      }),
    );

  escrow
    .command("sign-funding")
    .description("as the payer, sign the EIP-3009 authorization that funds a payment (sends nothing; anyone can relay it)")
    .argument("<payment>", "payment file")
    .option("--out <file>", "write to a file instead of stdout")
    .addHelpText("after", "\nExample:\n  $ netd escrow sign-funding booking.json --out funding.json")
    .action(
      action((ctx) => async (file: string, o: { out?: string }) => {
        const { payment, id } = await loadPayment(ctx, file);
        const signer = await ctx.signer();
        if (signer.address.toLowerCase() !== payment.payer.toLowerCase()) throw new InvalidInputError(`only the payer ${payment.payer} can sign its funding`);
        const escrow = await ctx.escrow(false);
        const signature = await signFunding(signer, await readTokenDomain(await ctx.token()), payment, await escrow.getAddress());
        const doc = { type: "netd/escrow-funding", version: 1, id, signature };
        ctx.out.document(doc, { out: o.out, message: `Funding authorization for ${id}`, command: "escrow sign-funding" });
      }),
    );

  paymentCommand(
    escrow,
    "fund",
    "fund a payment: the payer signs and sends (EIP-3009), or anyone relays a signed --authorization; --approve uses an approval",
    "fund booking.json            (as the payer)\n  $ netd escrow fund booking.json --authorization funding.json   (anyone)",
    async (ctx, escrow, payment, _args, o) => {
      const { symbol } = await ctx.decodeContext();
      const summary = `Fund payment of ${formatDollars(payment.amount, symbol)} from ${payment.payer}`;
      if (o.authorization) {
        const doc = parseSignedPaymentDocument(
          readTextFile(o.authorization, "--authorization"),
          { type: "netd/escrow-funding", id: paymentId(payment, await escrow.getAddress(), await ctx.chainId()) },
          o.authorization,
        );
        return { summary, method: fundWithAuthorizationCall(escrow, payment, doc.signature) };
      }
      const signer = await ctx.signer();
      if (signer.address.toLowerCase() !== payment.payer.toLowerCase()) {
        throw new InvalidInputError(`the configured key is not the payer ${payment.payer}`, {
          details: "the payer signs (`netd escrow sign-funding`), then anyone relays it with --authorization",
        });
      }
      if (o.approve) {
        await ensureAllowance(ctx, await escrow.getAddress(), payment.amount, "the escrow");
        return { summary, method: call(escrow.fund, toStruct(payment)) };
      }
      const signature = await signFunding(signer, await readTokenDomain(await ctx.token()), payment, await escrow.getAddress());
      return { summary, method: fundWithAuthorizationCall(escrow, payment, signature) };
    },
    (c) =>
      c
        .option("--authorization <file>", "relay the payer's signed funding (from `escrow sign-funding`)")
        .option("--approve", "fund from an approval instead of a signature"),
  );

  escrow
    .command("sign-receipt")
    .description("as the verifier, sign the delivery receipt that releases a payment (sends nothing; anyone can relay it)")
    .argument("<payment>", "payment file")
    .option("--out <file>", "write to a file instead of stdout")
    .addHelpText("after", "\nExample:\n  $ netd escrow sign-receipt booking.json --out receipt.json")
    .action(
      action((ctx) => async (file: string, o: { out?: string }) => {
        const { payment, id } = await loadPayment(ctx, file);
        const signer = await ctx.signer();
        if (signer.address.toLowerCase() !== payment.verifier.toLowerCase())
          throw new InvalidInputError(`only the verifier ${payment.verifier} can sign the receipt`);
        const escrow = await ctx.escrow(false);
        const signature = await signReceipt(signer, payment, await escrow.getAddress(), await ctx.chainId());
        const doc = { type: "netd/escrow-receipt", version: 1, id, signature };
        ctx.out.document(doc, { out: o.out, message: `Receipt for ${id}`, command: "escrow sign-receipt" });
      }),
    );

  paymentCommand(
    escrow,
    "confirm",
    "release a payment: as the verifier, or by relaying the verifier's signed --receipt",
    "confirm booking.json --receipt receipt.json",
    async (ctx, escrow, payment, _args, o) => {
      const { symbol } = await ctx.decodeContext();
      const summary = `Confirm delivery and release ${formatDollars(payment.amount, symbol)} to ${payment.payees.length} payee(s)`;
      if (o.receipt) {
        const doc = parseSignedPaymentDocument(
          readTextFile(o.receipt, "--receipt"),
          { type: "netd/escrow-receipt", id: paymentId(payment, await escrow.getAddress(), await ctx.chainId()) },
          o.receipt,
        );
        return { summary, method: call(escrow.confirmWithReceipt, toStruct(payment), doc.signature) };
      }
      return { summary, method: call(escrow.confirm, toStruct(payment)) };
    },
    (c) => c.option("--receipt <file>", "the verifier's signed receipt (from `escrow sign-receipt`)"),
  );

  paymentCommand(
    escrow,
    "capture",
    "as the operator, release an amount (full or partial) with a fee within the bounds",
    "capture booking.json 10 --fee-bps 100",
    async (ctx, escrow, payment, [amountInput], o) => {
      if (amountInput === undefined) throw new InvalidInputError("missing the amount to capture");
      const amount = parseAmount(amountInput);
      const feeBps = o.feeBps === undefined ? payment.minFeeBps : Number(o.feeBps);
      if (!Number.isInteger(feeBps) || feeBps < 0 || feeBps > 10_000) throw new InvalidInputError(`--fee-bps "${o.feeBps}" is not basis points`);
      const { symbol } = await ctx.decodeContext();
      return {
        summary: `Capture ${formatDollars(amount, symbol)} with a fee of ${feeBps} bps`,
        method: call(escrow.capture, toStruct(payment), amount, feeBps),
      };
    },
    (c) => c.argument("<amount>", "amount in dollars").option("--fee-bps <bps>", "fee (default: the payment's minimum)"),
  );

  const simple: [string, string, "release" | "reclaim" | "void" | "dispute"][] = [
    ["release", "after the deadlines, pay the payees what is held (default outcome release; anyone)", "release"],
    ["reclaim", "after the deadlines, refund the payer what is held (default outcome refund; anyone)", "reclaim"],
    ["void", "as the operator, refund the payer everything held", "void"],
    ["dispute", "as the payer or a payee, hand the decision to the arbiter", "dispute"],
  ];
  for (const [name, description, fn] of simple) {
    paymentCommand(escrow, name, description, `${name} booking.json`, async (_ctx, e, payment) => ({
      summary: `${name[0].toUpperCase()}${name.slice(1)} payment`,
      method: call(e[fn], toStruct(payment)),
    }));
  }

  paymentCommand(
    escrow,
    "rule",
    "as the arbiter, decide a dispute: the payer's share of what is held goes back, the rest is released",
    "rule booking.json 40%",
    async (_ctx, e, payment, [share]) => {
      if (share === undefined) throw new InvalidInputError("missing the payer's share");
      const bps = parsePercent(share, "payer share");
      return { summary: `Rule: ${bps / 100}% back to the payer, the rest to the payees`, method: call(e.rule, toStruct(payment), bps) };
    },
    (c) => c.argument("<payer-share>", "percentage of what is held that goes back to the payer, e.g. 40%"),
  );

  paymentCommand(
    escrow,
    "refund",
    "as the operator or a payee, pay back released money to the payer from your own balance",
    "refund booking.json 5",
    async (ctx, e, payment, [amountInput]) => {
      if (amountInput === undefined) throw new InvalidInputError("missing the amount to refund");
      const amount = parseAmount(amountInput);
      const { symbol } = await ctx.decodeContext();
      await ensureAllowance(ctx, await e.getAddress(), amount, "the escrow", "for the refund");
      return { summary: `Refund ${formatDollars(amount, symbol)} to the payer ${payment.payer}`, method: call(e.refund, toStruct(payment), amount) };
    },
    (c) => c.argument("<amount>", "amount in dollars"),
  );

  escrow
    .command("withdraw")
    .description("withdraw payouts that were credited to you because they could not be delivered")
    .option("--token <address>", "token (default: NET Dollar)")
    .addHelpText("after", "\nExample:\n  $ netd escrow withdraw")
    .action(
      action((ctx) => async (o: { token?: string }) => {
        const token = o.token ? parseAddress(o.token, "--token") : (await ctx.deployment()).contracts.NetDollar.address;
        const e = await ctx.escrow();
        const me = (await ctx.signer()).address;
        const { symbol } = await ctx.decodeContext();
        const owed = await e.claimable(token, me);
        await runWrite(ctx, {
          command: "escrow withdraw",
          summary: `Withdraw ${formatDollars(owed, symbol)} credited to ${me}`,
          method: e.withdraw,
          args: [token],
          after: async () => ({
            rows: [["left to withdraw", formatDollars(await e.claimable(token, me), symbol)]],
            data: { token, account: me, withdrawn: owed },
          }),
        });
      }),
    );

  escrow
    .command("status")
    .description("show a payment: its state, parties, payees and fees, deadlines, every event with each payout, and what can happen next")
    .argument("<payment>", "payment file")
    .addHelpText("after", "\nExample:\n  $ netd escrow status booking.json --json")
    .action(
      action((ctx) => async (file: string) => {
        const { payment } = await loadPayment(ctx, file);
        const e = await ctx.escrow(false);
        const { rows, data } = await stateRows(ctx, e, payment);
        const { symbol } = await ctx.decodeContext();
        const fromBlock = (await ctx.deployment()).contracts.ConditionalEscrow?.blockNumber ?? 0;
        const history = await getPaymentHistory(e, payment, fromBlock);
        const iso = toIsoSeconds;
        const none = (a: string) => (/^0x0{40}$/.test(a) ? "(none)" : a);
        const $ = (v: bigint) => formatDollars(v, symbol);
        const fee = payment.maxFeeBps === 0 ? "none" : `${payment.minFeeBps / 100}%-${payment.maxFeeBps / 100}% to ${payment.feeReceiver}`;
        const describe = (h: PaymentEvent): string[] => {
          const head = {
            PaymentFunded: `funded ${$(h.amount ?? 0n)} by ${h.by}`,
            PaymentReleased: `released ${$(h.amount ?? 0n)} (fee ${$(h.fee ?? 0n)}) by ${h.by}`,
            PaymentRefunded: `refunded ${$(h.amount ?? 0n)} to the payer, by ${h.by}`,
            PaymentDisputed: `disputed by ${h.by}`,
            PaymentRuled: `ruled by ${h.by}: ${(h.payerShareBps ?? 0) / 100}% back to the payer`,
            PayoutCredited: `credited ${$(h.amount ?? 0n)} to ${h.account} (it could not be paid; it withdraws with \`netd escrow withdraw\`)`,
          }[h.name];
          return [`  block ${h.blockNumber}  ${head}  (tx ${h.transactionHash})`, ...(h.transfers ?? []).map((t) => `      paid ${$(t.amount)} to ${t.to}`)];
        };
        ctx.out.result(
          [
            ...table([
              ...rows,
              ["amount", $(payment.amount)],
              ["payer", payment.payer],
              ["operator", none(payment.operator)],
              ["verifier", none(payment.verifier)],
              ["arbiter", none(payment.arbiter)],
              ["fee", fee],
              ["fund by", iso(payment.fundBy)],
              ["confirm by", iso(payment.confirmBy)],
              ["disputes until", iso(payment.confirmBy + payment.disputeWindow)],
              ["refunds until", iso(payment.refundBy)],
              ["if nobody acts", payment.defaultOutcome === Outcome.Release ? "release to the payees" : "refund to the payer"],
            ]),
            "payees:",
            ...payment.payees.map((p) => `  ${p.account}  ${p.shareBps / 100}%`),
            "history:",
            ...(history.length ? history.flatMap(describe) : ["  nothing yet"]),
            "possible now:",
            ...(data.possible.length ? data.possible.map((p) => `  ${p}`) : ["  nothing"]),
          ],
          { command: "escrow status", ...data, payment: toPaymentDocument(payment, await e.getAddress(), await ctx.chainId()), history },
        );
      }),
    );
}
