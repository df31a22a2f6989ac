import type { Command } from "commander";
import { isHexString } from "ethers";
import { formatDollars, parseAmount } from "../../amounts";
import { parseAddress, parseBytes32, parseDuration, parseTime } from "../parse";
import { InvalidInputError } from "../../errors";
import { buildAuthorization, readTokenDomain, recoverAuthorizationSigner, signCancelAuthorization, signTransferAuthorization } from "../../eip712";
import { readAuthorizationDocument, toAuthorizationDocument } from "../../token/authorizationDocument";
import { authorizationCall } from "../../token/authorizations";
import { action } from "../action";
import { runWrite } from "../write";

/** authorize (sign an EIP-3009 authorization) and submit-authorization (relay one). */
export function registerAuthorizationCommands(program: Command): void {
  program
    .command("authorize")
    .description("sign an EIP-3009 authorization with the configured key and print it as JSON (sends nothing)")
    .argument("<to>", "payee address")
    .argument("<amount>", "amount in dollars")
    .requiredOption("--valid-for <duration>", "how long it stays valid: 600, 90s, 15m, 2h or 1d")
    .option("--valid-after <time>", "valid only after this time, 2026-12-01T12:00:00Z or Unix seconds (default: at once)")
    .option("--receive", "sign a ReceiveWithAuthorization, which only the payee can submit (front-running safe)")
    .option("--nonce <hex>", "32-byte nonce (default: random)")
    .option("--out <file>", "write the JSON to a file instead of stdout")
    .addHelpText("after", "\nExample:\n  $ netd authorize 0x70997970C51812dc3A010C7d01b50e0d17dc79C8 0.25 --valid-for 600 --out pay.json")
    .action(
      action(
        (ctx) =>
          async (toInput: string, amountInput: string, options: { validFor: string; validAfter?: string; receive?: boolean; nonce?: string; out?: string }) => {
            const to = parseAddress(toInput, "payee");
            const value = parseAmount(amountInput);
            const validFor = parseDuration(options.validFor, "--valid-for", { positive: true });
            const validAfter = options.validAfter === undefined ? 0n : parseTime(options.validAfter, "--valid-after");
            const nonce = options.nonce === undefined ? undefined : parseBytes32(options.nonce, "--nonce");
            const token = await ctx.token();
            const signer = await ctx.signer();
            const kind = options.receive ? "receive" : "transfer";
            const domain = await readTokenDomain(token);
            const now = BigInt((await (await ctx.provider()).getBlock("latest"))!.timestamp);
            const auth = buildAuthorization({ from: signer.address, to, value, validForSeconds: validFor, now, validAfter, nonce });
            if (await token.authorizationState(auth.from, auth.nonce)) {
              throw new InvalidInputError(`nonce ${auth.nonce} is already used or cancelled for ${auth.from}`);
            }
            const balance = await token.balanceOf(auth.from);
            const { symbol } = await ctx.decodeContext();
            if (balance < value) ctx.out.note(`warning: ${auth.from} holds ${formatDollars(balance, symbol)}, less than ${formatDollars(value, symbol)}`);
            const sig = await signTransferAuthorization(signer, domain, auth, kind);
            const doc = toAuthorizationDocument(domain.chainId, domain.verifyingContract, kind, auth, sig.signature);
            ctx.out.document(doc, {
              out: options.out,
              message: `Signed a ${kind} authorization of ${formatDollars(value, symbol)} to ${to}`,
              command: "authorize",
            });
          },
      ),
    );

  program
    .command("submit-authorization")
    .description("relay a signed EIP-3009 authorization from a file (a receive authorization only by its payee)")
    .argument("<file>", "JSON written by `netd authorize`")
    .addHelpText("after", "\nExample:\n  $ netd submit-authorization pay.json --yes")
    .action(
      action((ctx) => async (file: string) => {
        const { doc, auth } = readAuthorizationDocument(file);
        const chainId = await ctx.chainId();
        if (BigInt(doc.chainId) !== chainId) {
          throw new InvalidInputError(`${file} is for chain ${doc.chainId}, but the endpoint serves chain ${chainId}`);
        }
        const deployment = await ctx.deployment();
        if (parseAddress(doc.token, "token").toLowerCase() !== deployment.contracts.NetDollar.address.toLowerCase()) {
          throw new InvalidInputError(`${file} authorizes token ${doc.token}, not this deployment's ${deployment.contracts.NetDollar.address}`);
        }
        const token = await ctx.tokenAsSigner();
        const sender = (await ctx.signer()).address;
        if (doc.kind === "receive" && sender.toLowerCase() !== auth.to.toLowerCase()) {
          throw new InvalidInputError(`a receive authorization can be submitted only by its payee ${auth.to}, not ${sender}`);
        }
        const provider = await ctx.provider();
        if ((await provider.getCode(auth.from)) === "0x") {
          // An EOA's signature can be checked here; a contract wallet's only on-chain (ERC-1271).
          let signer: string;
          try {
            signer = recoverAuthorizationSigner(await readTokenDomain(token), auth, doc.signature, doc.kind);
          } catch (cause) {
            throw new InvalidInputError(`${file} has a malformed signature`, { cause });
          }
          if (signer.toLowerCase() !== auth.from.toLowerCase()) {
            throw new InvalidInputError(`${file} was signed by ${signer}, not by the payer ${auth.from}`);
          }
        }
        const { symbol } = await ctx.decodeContext();
        const method = authorizationCall(token, doc.kind, auth, doc.signature);
        await runWrite(ctx, {
          command: "submit-authorization",
          summary: `Submit a ${doc.kind} authorization of ${formatDollars(auth.value, symbol)} from ${auth.from} to ${auth.to}`,
          method,
          args: [],
          after: async () => {
            const [fromBalance, toBalance, used] = await Promise.all([
              token.balanceOf(auth.from),
              token.balanceOf(auth.to),
              token.authorizationState(auth.from, auth.nonce),
            ]);
            return {
              rows: [
                ["payer balance", formatDollars(fromBalance, symbol)],
                ["payee balance", formatDollars(toBalance, symbol)],
                ["nonce used", used ? "yes" : "no"],
              ],
              data: { kind: doc.kind, from: auth.from, to: auth.to, value: auth.value, nonce: auth.nonce, fromBalance, toBalance },
            };
          },
        });
      }),
    );

  program
    .command("cancel-authorization")
    .description("as the payer, cancel an EIP-3009 authorization you signed before it is used (its nonce can then never be used)")
    .argument("<nonce-or-file>", "the authorization's 32-byte nonce, or the file `netd authorize` wrote")
    .addHelpText(
      "after",
      "\nExamples:\n  $ netd cancel-authorization pay.json\n  $ netd cancel-authorization 0x8f3c0c1e5b9a4d2e7f6a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e",
    )
    .action(
      action((ctx) => async (input: string) => {
        const signer = await ctx.signer();
        let nonce: string;
        if (isHexString(input)) {
          nonce = parseBytes32(input, "nonce");
        } else {
          const { auth } = readAuthorizationDocument(input);
          if (auth.from.toLowerCase() !== signer.address.toLowerCase()) {
            throw new InvalidInputError(`${input} was signed for the payer ${auth.from}; only that key can cancel it, not ${signer.address}`);
          }
          nonce = auth.nonce;
        }
        const token = await ctx.tokenAsSigner();
        if (await token.authorizationState(signer.address, nonce)) {
          throw new InvalidInputError(`nonce ${nonce} of ${signer.address} is already used or cancelled: nothing to cancel`);
        }
        const { signature } = await signCancelAuthorization(signer, await readTokenDomain(token), { authorizer: signer.address, nonce });
        await runWrite(ctx, {
          command: "cancel-authorization",
          summary: `Cancel the authorization with nonce ${nonce} of ${signer.address}`,
          method: token["cancelAuthorization(address,bytes32,bytes)"],
          args: [signer.address, nonce, signature],
          after: async () => {
            const used = await token.authorizationState(signer.address, nonce);
            return { rows: [["nonce cancelled", used ? "yes" : "no"]], data: { authorizer: signer.address, nonce, cancelled: used } };
          },
        });
      }),
    );
}
