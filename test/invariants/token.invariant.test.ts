import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import type { HardhatEthersSigner } from "@nomicfoundation/hardhat-ethers/signers";
import fc from "fast-check";
import { MaxUint256, ZeroAddress, ZeroHash, id as keccakText, randomBytes, hexlify, type Signer } from "ethers";
import {
  InvariantReader__factory,
  MockERC1271Wallet__factory,
  ReserveOracle__factory,
  type InvariantReader,
  type NetDollarV2,
  type ReserveOracle,
} from "../../typechain-types";
import { ChainRefusedError } from "../../src/errors";
import { toNetDollarError } from "../../src/decode";
import { TYPES, authorizationTypes, type TokenDomain } from "../../src/eip712";
import { signAttestationData, type AttestationData } from "../../src/attestation/typedData";
import { deployNetDollar, namedAccounts, USD, type Accounts } from "../helpers/fixtures";
import { fcParameters } from "../helpers/fastcheck";

/**
 * Model-based test of the token system (NetDollarV2 behind its proxy, its ReserveOracle and reserve guard): random
 * sequences of real transactions (transfers, allowances, permits, every EIP-3009 form, cancellations, minting,
 * burning, redemption, pause, blocklist, seizure, minter configuration, role changes, attestations, guard changes and
 * time jumps), each sent by a random caller, with or without the right role or signature. A plain TypeScript model
 * predicts every outcome: success, or the exact custom error with its arguments. After every step the whole
 * observable state is compared with the model, and the invariants are checked:
 *
 * - Σ balances = totalSupply (every holder is tracked; nothing else can receive);
 * - after every mint with the guard on, totalSupply ≤ attested reserves less the buffer;
 * - no authorization nonce is used twice; each used one reads as used on chain;
 * - a minter's allowance only decreases, by exactly what it minted (or is set by the minter admin);
 * - no role action succeeds without its role (the model predicts AccessControlUnauthorizedAccount);
 * - while paused, no value moves.
 */
describe("Token system: model-based invariants over random sequences (fast-check)", function () {
  this.timeout(0);

  type Err = [name: string, args: unknown[]];
  const BPS = 10_000n;
  const ZERO = ZeroAddress;

  interface Model {
    clock: bigint;
    supply: bigint;
    paused: boolean;
    balances: Map<string, bigint>;
    blocked: Set<string>;
    minters: Map<string, bigint>;
    allowances: Map<string, bigint>;
    nonces: Map<string, bigint>;
    used: Set<string>;
    /** Nonces used per authorizer, to replay. */
    usedBy: Map<string, string[]>;
    roles: Map<string, Set<string>>;
    oracle: { reserves: bigint; asOf: bigint };
    guard: { on: boolean; maxAge: bigint; bufferBps: bigint };
    lastPermit?: { owner: string; spender: string; value: bigint; deadline: bigint; signature: string };
  }

  interface Real {
    a: Accounts;
    token: NetDollarV2;
    oracle: ReserveOracle;
    reader: InvariantReader;
    wallet: string;
    domain: TokenDomain;
    /** Senders (externally owned): alice, bob, carol, relayer, other. */
    users: HardhatEthersSigner[];
    /** Holders: the users and an ERC-1271 wallet owned by carol. */
    holders: string[];
    /** Callers for administrative actions: the role holders, the minter and every user. */
    callers: HardhatEthersSigner[];
    tracked: string[];
    roleIds: Record<RoleName, string>;
    attestor: HardhatEthersSigner;
  }

  type RoleName = "admin" | "minterAdmin" | "pauser" | "blocklister" | "seizer" | "redeemer";

  const stats = { steps: 0, succeeded: 0, refused: 0, byError: new Map<string, number>() };
  const k2 = (a: string, b: string) => `${a.toLowerCase()}|${b.toLowerCase()}`;
  const bal = (m: Model, a: string) => m.balances.get(a) ?? 0n;
  const hasRole = (m: Model, r: Real, role: RoleName, account: string) => m.roles.get(r.roleIds[role])!.has(account);
  const roleError = (r: Real, role: RoleName, caller: string): Err => ["AccessControlUnauthorizedAccount", [caller, r.roleIds[role]]];

  /** A caller for a role-gated action: "holder" is a current holder of the role (when any), a number anyone. */
  type CallerSpec = number | "holder";
  function callerFor(m: Model, r: Real, role: RoleName, spec: CallerSpec): HardhatEthersSigner {
    if (spec !== "holder") return r.callers[spec];
    const holders = m.roles.get(r.roleIds[role])!;
    return r.callers.find((c) => holders.has(c.address)) ?? r.callers[0];
  }

  // ---------------------------------------------------------------------------------------------------------------
  // The model of _update (the one place balances and supply change) and of the reserve guard
  // ---------------------------------------------------------------------------------------------------------------

  function guardError(m: Model, newSupply: bigint): Err | undefined {
    if (!m.guard.on) return undefined;
    const { reserves, asOf } = m.oracle;
    if (asOf === 0n || m.clock > asOf + m.guard.maxAge) return ["NetDollarReserveAttestationStale", [asOf, m.guard.maxAge, m.clock]];
    const allowed = (reserves * (BPS - m.guard.bufferBps)) / BPS;
    if (newSupply > allowed) return ["NetDollarReservesExceeded", [newSupply, allowed, reserves]];
    return undefined;
  }

  function updateError(m: Model, from: string, to: string, value: bigint): Err | undefined {
    if (m.paused) return ["NetDollarPaused", []];
    if (from === ZERO) {
      const g = guardError(m, m.supply + value);
      if (g) return g;
    } else {
      if (m.blocked.has(from)) return ["NetDollarBlocklisted", [from]];
      if (bal(m, from) < value) return ["ERC20InsufficientBalance", [from, bal(m, from), value]];
    }
    if (to !== ZERO && m.blocked.has(to)) return ["NetDollarBlocklisted", [to]];
    return undefined;
  }

  function applyUpdate(m: Model, from: string, to: string, value: bigint): void {
    if (from === ZERO) m.supply += value;
    else m.balances.set(from, bal(m, from) - value);
    if (to === ZERO) m.supply -= value;
    else m.balances.set(to, bal(m, to) + value);
  }

  function useNonce(m: Model, from: string, nonce: string): void {
    const key = k2(from, nonce);
    if (m.used.has(key)) throw new Error(`model bug: nonce ${nonce} of ${from} used twice`);
    m.used.add(key);
    m.usedBy.set(from, [...(m.usedBy.get(from) ?? []), nonce]);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Running a step: tick, predict, send, compare the outcome, then the whole state
  // ---------------------------------------------------------------------------------------------------------------

  async function tick(m: Model): Promise<void> {
    m.clock += 1n;
    await ethers.provider.send("evm_setNextBlockTimestamp", [Number(m.clock)]);
  }

  const norm = (v: unknown): unknown => (typeof v === "string" ? v.toLowerCase() : typeof v === "number" ? BigInt(v) : v);

  /** Sends, and checks that it succeeded or failed exactly as `expected` says. */
  async function outcome(label: string, expected: Err | undefined, send: () => Promise<{ wait(): Promise<unknown> }>): Promise<boolean> {
    let caught: unknown;
    try {
      await (await send()).wait();
    } catch (error) {
      caught = error;
    }
    if (!expected) {
      if (caught) throw new Error(`${label}: the model expected success, the chain said: ${toNetDollarError(caught).message.slice(0, 400)}`);
      stats.succeeded++;
      return true;
    }
    if (!caught) throw new Error(`${label}: the model expected ${expected[0]}(${expected[1].join(", ")}), but it succeeded`);
    const err = toNetDollarError(caught);
    if (!(err instanceof ChainRefusedError) || !err.errorName) throw new Error(`${label}: undecodable failure: ${err.message.slice(0, 400)}`);
    expect([err.errorName, (err.errorArgs ?? []).map(norm)], label).to.deep.equal([expected[0], expected[1].map(norm)]);
    stats.refused++;
    stats.byError.set(expected[0], (stats.byError.get(expected[0]) ?? 0) + 1);
    return false;
  }

  async function checkState(m: Model, r: Real, before: { paused: boolean; balances: bigint[] } | undefined): Promise<{ paused: boolean; balances: bigint[] }> {
    const [supply, paused, states, allowances] = await r.reader.snapshot(
      r.token,
      r.tracked,
      r.users.map((u) => u.address),
    );
    expect(supply, "totalSupply").to.equal(m.supply);
    expect(paused, "paused").to.equal(m.paused);
    let sum = 0n;
    r.tracked.forEach((account, i) => {
      const s = states[i];
      sum += s.balance;
      expect(s.balance, `balance of ${account}`).to.equal(bal(m, account));
      expect(s.blocklisted, `blocklisted ${account}`).to.equal(m.blocked.has(account));
      expect(s.minter, `isMinter ${account}`).to.equal(m.minters.has(account));
      expect(s.minterAllowance, `minterAllowance ${account}`).to.equal(m.minters.get(account) ?? 0n);
      expect(s.nonce, `nonces ${account}`).to.equal(m.nonces.get(account) ?? 0n);
      r.users.forEach((spender, j) => {
        expect(allowances[i * r.users.length + j], `allowance ${account} → ${spender.address}`).to.equal(m.allowances.get(k2(account, spender.address)) ?? 0n);
      });
    });
    expect(sum, "Σ balances = totalSupply").to.equal(supply);
    const balances = states.map((s) => s.balance);
    if (before?.paused && paused) expect(balances, "a paused token moves no value").to.deep.equal(before.balances);
    return { paused, balances };
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Actions
  // ---------------------------------------------------------------------------------------------------------------

  type AmountSpec = bigint | "all" | "all+1";
  const amountOf = (spec: AmountSpec, available: bigint) => (spec === "all" ? available : spec === "all+1" ? available + 1n : spec);
  const amountArb: fc.Arbitrary<AmountSpec> = fc.oneof(
    { weight: 1, arbitrary: fc.constantFrom<AmountSpec>("all", "all+1", 0n) },
    { weight: 4, arbitrary: fc.bigInt(1n, 300n * USD) },
    { weight: 1, arbitrary: fc.bigInt(1n, 3_000n * USD) },
  );

  interface Action {
    label: string;
    run(m: Model, r: Real): Promise<{ mint?: boolean; roles?: [RoleName, string][]; nonce?: [string, string] }>;
  }

  /** A holder index (0-4 users, 5 the wallet) or 6 for the zero address. */
  const holderOrZero = (r: Real, i: number) => (i === 6 ? ZERO : r.holders[i]);

  function transfer(from: number, to: number, amount: AmountSpec): Action {
    return {
      label: `transfer(${from} → ${to}, ${amount})`,
      async run(m, r) {
        const sender = r.users[from];
        const dest = holderOrZero(r, to);
        const value = amountOf(amount, bal(m, sender.address));
        const err: Err | undefined = dest === ZERO ? ["ERC20InvalidReceiver", [ZERO]] : updateError(m, sender.address, dest, value);
        if (await outcome(this.label, err, () => r.token.connect(sender).transfer(dest, value))) applyUpdate(m, sender.address, dest, value);
        return {};
      },
    };
  }

  function approve(owner: number, spender: number, value: bigint): Action {
    return {
      label: `approve(${owner}, spender ${spender}, ${value})`,
      async run(m, r) {
        const o = r.users[owner];
        const s = spender === 5 ? ZERO : r.users[spender].address;
        const err: Err | undefined = s === ZERO ? ["ERC20InvalidSpender", [ZERO]] : undefined;
        if (await outcome(this.label, err, () => r.token.connect(o).approve(s, value))) m.allowances.set(k2(o.address, s), value);
        return {};
      },
    };
  }

  function transferFrom(spender: number, from: number, to: number, amount: AmountSpec): Action {
    return {
      label: `transferFrom(spender ${spender}, ${from} → ${to}, ${amount})`,
      async run(m, r) {
        const s = r.users[spender];
        const src = r.holders[from];
        const dest = holderOrZero(r, to);
        const value = amountOf(amount, bal(m, src));
        const current = m.allowances.get(k2(src, s.address)) ?? 0n;
        let err: Err | undefined;
        if (m.blocked.has(s.address)) err = ["NetDollarBlocklisted", [s.address]];
        else if (current !== MaxUint256 && current < value) err = ["ERC20InsufficientAllowance", [s.address, current, value]];
        else if (dest === ZERO) err = ["ERC20InvalidReceiver", [ZERO]];
        else err = updateError(m, src, dest, value);
        if (await outcome(this.label, err, () => r.token.connect(s).transferFrom(src, dest, value))) {
          if (current !== MaxUint256) m.allowances.set(k2(src, s.address), current - value);
          applyUpdate(m, src, dest, value);
        }
        return {};
      },
    };
  }

  /** The key that signs for a holder: its own, or the wallet owner's (carol) for the ERC-1271 wallet. */
  const signerFor = (r: Real, holder: string): Signer => (holder === r.wallet ? r.users[2] : r.users[r.holders.indexOf(holder)]);

  function permit(owner: number, spender: number, value: bigint, deadlineDelta: number, rightSigner: boolean, bytesForm: boolean, replay: boolean): Action {
    return {
      label: replay
        ? "permit(replay the last one)"
        : `permit(owner ${owner}, spender ${spender}, ${value}, deadline now${deadlineDelta >= 0 ? "+" : ""}${deadlineDelta}, ${rightSigner ? "owner" : "wrong signer"}, ${bytesForm ? "bytes" : "v,r,s"})`,
      async run(m, r) {
        let p: { owner: string; spender: string; value: bigint; deadline: bigint; signature: string };
        let valid: boolean;
        if (replay && m.lastPermit) {
          p = m.lastPermit;
          valid = false; // the owner's nonce has moved on
        } else {
          const o = r.holders[owner];
          const s = spender === 5 ? ZERO : r.users[spender].address;
          const deadline = m.clock + BigInt(deadlineDelta);
          const nonce = m.nonces.get(o) ?? 0n;
          const signer = rightSigner ? signerFor(r, o) : r.users[(r.holders.indexOf(o) + 1) % 5];
          const signature = await signer.signTypedData(r.domain, TYPES.Permit, { owner: o, spender: s, value, nonce, deadline });
          valid = rightSigner || (await signer.getAddress()) === o;
          p = { owner: o, spender: s, value, deadline, signature };
        }
        let err: Err | undefined;
        if (m.clock > p.deadline) err = ["NetDollarPermitExpired", [p.deadline, m.clock]];
        else if (!valid) err = ["NetDollarInvalidSignature", [p.owner]];
        else if (p.spender === ZERO) err = ["ERC20InvalidSpender", [ZERO]];
        const sig = ethers.Signature.from(p.signature);
        const send =
          bytesForm || p.owner === r.wallet
            ? () => r.token["permit(address,address,uint256,uint256,bytes)"](p.owner, p.spender, p.value, p.deadline, p.signature)
            : () => r.token["permit(address,address,uint256,uint256,uint8,bytes32,bytes32)"](p.owner, p.spender, p.value, p.deadline, sig.v, sig.r, sig.s);
        if (await outcome(this.label, err, send)) {
          m.nonces.set(p.owner, (m.nonces.get(p.owner) ?? 0n) + 1n);
          m.allowances.set(k2(p.owner, p.spender), p.value);
          m.lastPermit = p;
        }
        return {};
      },
    };
  }

  interface AuthSpec {
    receive: boolean;
    from: number;
    to: number;
    caller: number;
    amount: AmountSpec;
    validAfter: "zero" | "t-1" | "t" | "t+1";
    validBefore: "t-1" | "t" | "t+1" | "t+3600";
    reuse: boolean;
    signer: "right" | "wrong" | "wrong-chain";
    bytesForm: boolean;
  }

  function withAuthorization(spec: AuthSpec): Action {
    return {
      label: `${spec.receive ? "receive" : "transfer"}WithAuthorization(${JSON.stringify(spec, (_k, v) => (typeof v === "bigint" ? v.toString() : v))})`,
      async run(m, r) {
        const from = r.holders[spec.from];
        const to = holderOrZero(r, spec.to);
        // -1: the payee itself when it can send (receiveWithAuthorization must be called by the payee), else alice
        const caller = spec.caller >= 0 ? r.users[spec.caller] : (r.users.find((u) => u.address === to) ?? r.users[0]);
        const value = amountOf(spec.amount, bal(m, from));
        const t = m.clock;
        const validAfter = { zero: 0n, "t-1": t - 1n, t, "t+1": t + 1n }[spec.validAfter];
        const validBefore = { "t-1": t - 1n, t, "t+1": t + 1n, "t+3600": t + 3600n }[spec.validBefore];
        const previous = m.usedBy.get(from) ?? [];
        const nonce = spec.reuse && previous.length ? previous[previous.length - 1] : hexlify(randomBytes(32));
        const signer = spec.signer === "wrong" ? r.users[(spec.from + 1) % 5] : signerFor(r, from);
        const domain = spec.signer === "wrong-chain" ? { ...r.domain, chainId: 1n } : r.domain;
        const kind = spec.receive ? "receive" : "transfer";
        const signature = await signer.signTypedData(domain, authorizationTypes(kind), { from, to, value, validAfter, validBefore, nonce });
        const validSig = spec.signer === "right" || (spec.signer === "wrong" && (await signer.getAddress()) === from);

        let err: Err | undefined;
        if (spec.receive && to !== caller.address) err = ["NetDollarCallerNotPayee", [caller.address, to]];
        else if (t <= validAfter) err = ["NetDollarAuthorizationNotYetValid", [validAfter, t]];
        else if (t >= validBefore) err = ["NetDollarAuthorizationExpired", [validBefore, t]];
        else if (m.used.has(k2(from, nonce))) err = ["NetDollarAuthorizationAlreadyUsed", [from, nonce]];
        else if (!validSig) err = ["NetDollarInvalidSignature", [from]];
        else if (to === ZERO) err = ["ERC20InvalidReceiver", [ZERO]];
        else err = updateError(m, from, to, value);

        const s = ethers.Signature.from(signature);
        const token = r.token.connect(caller);
        const args = [from, to, value, validAfter, validBefore, nonce] as const;
        const send = spec.receive
          ? spec.bytesForm
            ? () => token["receiveWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)"](...args, signature)
            : () => token["receiveWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)"](...args, s.v, s.r, s.s)
          : spec.bytesForm
            ? () => token["transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)"](...args, signature)
            : () => token["transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)"](...args, s.v, s.r, s.s);
        if (await outcome(this.label, err, send)) {
          useNonce(m, from, nonce);
          applyUpdate(m, from, to, value);
        }
        return { nonce: [from, nonce] };
      },
    };
  }

  function cancel(authorizer: number, reuse: boolean, rightSigner: boolean, bytesForm: boolean): Action {
    return {
      label: `cancelAuthorization(${authorizer}, ${reuse ? "a used nonce" : "a fresh nonce"}, ${rightSigner ? "authorizer" : "wrong signer"}, ${bytesForm ? "bytes" : "v,r,s"})`,
      async run(m, r) {
        const who = r.holders[authorizer];
        const previous = m.usedBy.get(who) ?? [];
        const nonce = reuse && previous.length ? previous[previous.length - 1] : hexlify(randomBytes(32));
        const signer = rightSigner ? signerFor(r, who) : r.users[(authorizer + 1) % 5];
        const signature = await signer.signTypedData(r.domain, TYPES.CancelAuthorization, { authorizer: who, nonce });
        const validSig = rightSigner || (await signer.getAddress()) === who;
        let err: Err | undefined;
        if (m.used.has(k2(who, nonce))) err = ["NetDollarAuthorizationAlreadyUsed", [who, nonce]];
        else if (!validSig) err = ["NetDollarInvalidSignature", [who]];
        const s = ethers.Signature.from(signature);
        const send = bytesForm
          ? () => r.token["cancelAuthorization(address,bytes32,bytes)"](who, nonce, signature)
          : () => r.token["cancelAuthorization(address,bytes32,uint8,bytes32,bytes32)"](who, nonce, s.v, s.r, s.s);
        if (await outcome(this.label, err, send)) useNonce(m, who, nonce);
        return { nonce: [who, nonce] };
      },
    };
  }

  /** Mint/burn callers: the fixture's minter (0) or a user (1-5). */
  const minterCaller = (r: Real, i: number) => (i === 0 ? r.a.minter : r.users[i - 1]);

  function mint(caller: number, to: number, amount: AmountSpec | "allowance" | "allowance+1"): Action {
    return {
      label: `mint(by ${caller}, to ${to}, ${amount})`,
      async run(m, r) {
        const c = minterCaller(r, caller);
        const dest = holderOrZero(r, to);
        const left = m.minters.get(c.address) ?? 0n;
        const value = amount === "allowance" ? left : amount === "allowance+1" ? left + 1n : amountOf(amount, left);
        let err: Err | undefined;
        if (!m.minters.has(c.address)) err = ["NetDollarNotMinter", [c.address]];
        else if (m.blocked.has(c.address)) err = ["NetDollarBlocklisted", [c.address]];
        else if (dest === ZERO) err = ["ERC20InvalidReceiver", [ZERO]];
        else if (value === 0n) err = ["NetDollarZeroAmount", []];
        else if (value > left) err = ["NetDollarMinterAllowanceExceeded", [c.address, left, value]];
        else err = updateError(m, ZERO, dest, value);
        const ok = await outcome(this.label, err, () => r.token.connect(c).mint(dest, value));
        if (ok) {
          m.minters.set(c.address, left - value);
          applyUpdate(m, ZERO, dest, value);
        }
        return { mint: ok };
      },
    };
  }

  function burn(caller: number, amount: AmountSpec): Action {
    return {
      label: `burn(by ${caller}, ${amount})`,
      async run(m, r) {
        const c = minterCaller(r, caller);
        const value = amountOf(amount, bal(m, c.address));
        let err: Err | undefined;
        if (!m.minters.has(c.address)) err = ["NetDollarNotMinter", [c.address]];
        else if (value === 0n) err = ["NetDollarZeroAmount", []];
        else err = updateError(m, c.address, ZERO, value);
        if (await outcome(this.label, err, () => r.token.connect(c).burn(value))) applyUpdate(m, c.address, ZERO, value);
        return {};
      },
    };
  }

  function redeem(caller: number, amount: AmountSpec): Action {
    return {
      label: `redeem(by ${caller}, ${amount})`,
      async run(m, r) {
        const c = minterCaller(r, caller);
        const value = amountOf(amount, bal(m, c.address));
        let err: Err | undefined;
        if (!hasRole(m, r, "redeemer", c.address)) err = roleError(r, "redeemer", c.address);
        else if (value === 0n) err = ["NetDollarZeroAmount", []];
        else err = updateError(m, c.address, ZERO, value);
        if (await outcome(this.label, err, () => r.token.connect(c).redeem(value, keccakText("ref")))) applyUpdate(m, c.address, ZERO, value);
        return {};
      },
    };
  }

  function setPaused(caller: CallerSpec, pause: boolean): Action {
    return {
      label: `${pause ? "pause" : "unpause"}(by ${caller})`,
      async run(m, r) {
        const c = callerFor(m, r, "pauser", caller);
        let err: Err | undefined;
        if (!hasRole(m, r, "pauser", c.address)) err = roleError(r, "pauser", c.address);
        else if (pause && m.paused) err = ["NetDollarPaused", []];
        else if (!pause && !m.paused) err = ["NetDollarNotPaused", []];
        if (await outcome(this.label, err, () => (pause ? r.token.connect(c).pause() : r.token.connect(c).unpause()))) m.paused = pause;
        return {};
      },
    };
  }

  /** Blocklist/seizure targets: the holders (0-5) and the minter (6). */
  const target = (r: Real, i: number) => (i === 6 ? r.a.minter.address : r.holders[i]);

  function setBlocked(caller: CallerSpec, who: number, block: boolean): Action {
    return {
      label: `${block ? "blocklist" : "unblocklist"}(by ${caller}, ${who})`,
      async run(m, r) {
        const c = callerFor(m, r, "blocklister", caller);
        const account = target(r, who);
        const err = hasRole(m, r, "blocklister", c.address) ? undefined : roleError(r, "blocklister", c.address);
        if (await outcome(this.label, err, () => (block ? r.token.connect(c).blocklist(account) : r.token.connect(c).unblocklist(account)))) {
          if (block) m.blocked.add(account);
          else m.blocked.delete(account);
        }
        return {};
      },
    };
  }

  function seize(caller: CallerSpec, who: number): Action {
    return {
      label: `seize(by ${caller}, ${who})`,
      async run(m, r) {
        const c = callerFor(m, r, "seizer", caller);
        const account = target(r, who);
        let err: Err | undefined;
        if (!hasRole(m, r, "seizer", c.address)) err = roleError(r, "seizer", c.address);
        else if (m.paused) err = ["NetDollarPaused", []];
        else if (!m.blocked.has(account)) err = ["NetDollarNotBlocklisted", [account]];
        if (await outcome(this.label, err, () => r.token.connect(c).seize(account))) {
          m.supply -= bal(m, account);
          m.balances.set(account, 0n);
        }
        return {};
      },
    };
  }

  function configureMinter(caller: CallerSpec, who: number, allowance: bigint): Action {
    return {
      label: `configureMinter(by ${caller}, ${who}, ${allowance})`,
      async run(m, r) {
        const c = callerFor(m, r, "minterAdmin", caller);
        const account = who === 6 ? ZERO : minterCaller(r, who).address;
        let err: Err | undefined;
        if (!hasRole(m, r, "minterAdmin", c.address)) err = roleError(r, "minterAdmin", c.address);
        else if (account === ZERO) err = ["NetDollarZeroAddress", []];
        if (await outcome(this.label, err, () => r.token.connect(c).configureMinter(account, allowance))) m.minters.set(account, allowance);
        return {};
      },
    };
  }

  function removeMinter(caller: CallerSpec, who: number): Action {
    return {
      label: `removeMinter(by ${caller}, ${who})`,
      async run(m, r) {
        const c = callerFor(m, r, "minterAdmin", caller);
        const account = minterCaller(r, who).address;
        const err = hasRole(m, r, "minterAdmin", c.address) ? undefined : roleError(r, "minterAdmin", c.address);
        if (await outcome(this.label, err, () => r.token.connect(c).removeMinter(account))) m.minters.delete(account);
        return {};
      },
    };
  }

  const GRANTABLE: RoleName[] = ["minterAdmin", "pauser", "blocklister", "seizer", "redeemer"];

  function changeRole(caller: CallerSpec, role: RoleName, who: number, grant: boolean): Action {
    return {
      label: `${grant ? "grant" : "revoke"}Role(by ${caller}, ${role}, ${who})`,
      async run(m, r) {
        const adminRole: RoleName = role === "redeemer" ? "minterAdmin" : "admin";
        const c = callerFor(m, r, adminRole, caller);
        const account = r.callers[who].address;
        const err = hasRole(m, r, adminRole, c.address) ? undefined : roleError(r, adminRole, c.address);
        const id = r.roleIds[role];
        if (await outcome(this.label, err, () => (grant ? r.token.connect(c).grantRole(id, account) : r.token.connect(c).revokeRole(id, account)))) {
          if (grant) m.roles.get(id)!.add(account);
          else m.roles.get(id)!.delete(account);
        }
        return { roles: [[role, account]] };
      },
    };
  }

  function publish(authorized: boolean, reserves: bigint, asOf: "t-5" | "t" | "t+1" | "latest"): Action {
    return {
      label: `publish(${authorized ? "attestor" : "not an attestor"}, $${reserves / USD}, asOf ${asOf})`,
      async run(m, r) {
        const attestor = authorized ? r.attestor : r.users[0];
        const t = m.clock;
        const at = { "t-5": t - 5n, t, "t+1": t + 1n, latest: m.oracle.asOf }[asOf];
        const data: AttestationData = {
          issuer: "NET Dollar Inc.",
          asOf: at,
          deployments: [{ chainId: 31337n, token: await r.token.getAddress(), blockNumber: 1n, outstanding: m.supply }],
          reserves,
          lines: [{ kind: "cash", custodian: "Bank", amount: reserves }],
          accountant: "LLP",
          reportSha256: ZeroHash,
        };
        const signature = await signAttestationData(attestor, data);
        let err: Err | undefined;
        if (!authorized) err = ["ReserveOracleUnauthorizedAttestor", [attestor.address]];
        else if (at <= m.oracle.asOf) err = ["ReserveOracleNotNewer", [at, m.oracle.asOf]];
        else if (at > t) err = ["ReserveOracleFutureAttestation", [at, t]];
        if (await outcome(this.label, err, () => r.oracle.connect(r.users[3]).publish(data, attestor.address, signature))) m.oracle = { reserves, asOf: at };
        return {};
      },
    };
  }

  function configureGuard(caller: CallerSpec, on: boolean, maxAge: bigint, bufferBps: bigint): Action {
    return {
      label: on ? `configureReserveGuard(by ${caller}, maxAge ${maxAge}, buffer ${bufferBps})` : `disableReserveGuard(by ${caller})`,
      async run(m, r) {
        const c = callerFor(m, r, "admin", caller);
        const err = hasRole(m, r, "admin", c.address) ? undefined : roleError(r, "admin", c.address);
        const send = on ? () => r.token.connect(c).configureReserveGuard(r.oracle, maxAge, bufferBps) : () => r.token.connect(c).disableReserveGuard();
        if (await outcome(this.label, err, send)) m.guard = on ? { on, maxAge, bufferBps } : { ...m.guard, on: false };
        return {};
      },
    };
  }

  function wait(seconds: number): Action {
    return {
      label: `wait(${seconds}s)`,
      async run(m) {
        m.clock += BigInt(seconds);
        return {};
      },
    };
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Generators
  // ---------------------------------------------------------------------------------------------------------------

  const user = fc.nat(4);
  const holder = fc.nat(5);
  const holderOrZeroArb = fc.oneof({ weight: 9, arbitrary: fc.nat(5) }, { weight: 1, arbitrary: fc.constant(6) });
  /** Half the time a holder of the role the action needs, half the time anyone (index into Real.callers). */
  const caller: fc.Arbitrary<CallerSpec> = fc.oneof(fc.constant<CallerSpec>("holder"), fc.nat(10));
  const anyone = fc.nat(10);
  /** Mostly the fixture's minter (0), sometimes a user (1-5). */
  const minterIndex = fc.oneof({ weight: 3, arbitrary: fc.constant(0) }, { weight: 2, arbitrary: fc.nat(5) });
  const actions: fc.Arbitrary<Action>[] = [
    fc.tuple(user, holderOrZeroArb, amountArb).map(([f, t, a]) => transfer(f, t, a)),
    fc.tuple(user, fc.nat(5), fc.constantFrom(0n, 50n * USD, 500n * USD, MaxUint256)).map(([o, s, v]) => approve(o, s, v)),
    fc.tuple(user, holder, holderOrZeroArb, amountArb).map(([s, f, t, a]) => transferFrom(s, f, t, a)),
    fc
      .tuple(holder, fc.nat(5), fc.constantFrom(0n, 70n * USD, MaxUint256), fc.constantFrom(-1, 0, 1, 3600), fc.boolean(), fc.boolean(), fc.boolean())
      .map(([o, s, v, d, right, bytes, replay]) => permit(o, s, v, d, right, bytes, replay)),
    fc
      .record({
        receive: fc.boolean(),
        from: holder,
        to: holderOrZeroArb,
        caller: fc.oneof({ weight: 3, arbitrary: fc.constant(-1) }, { weight: 1, arbitrary: user }),
        amount: amountArb,
        validAfter: fc.constantFrom("zero", "zero", "t-1", "t", "t+1"),
        validBefore: fc.constantFrom("t-1", "t", "t+1", "t+3600", "t+3600"),
        reuse: fc.boolean(),
        signer: fc.constantFrom("right", "right", "right", "wrong", "wrong-chain"),
        bytesForm: fc.boolean(),
      })
      .map((spec) => withAuthorization(spec as AuthSpec)),
    fc.tuple(holder, fc.boolean(), fc.boolean(), fc.boolean()).map(([a, reuse, right, bytes]) => cancel(a, reuse, right, bytes)),
    fc
      .tuple(minterIndex, holderOrZeroArb, fc.oneof(amountArb, fc.constantFrom<"allowance" | "allowance+1">("allowance", "allowance+1")))
      .map(([c, t, a]) => mint(c, t, a)),
    fc.tuple(minterIndex, amountArb).map(([c, a]) => burn(c, a)),
    fc.tuple(minterIndex, amountArb).map(([c, a]) => redeem(c, a)),
    fc.tuple(caller, fc.boolean()).map(([c, p]) => setPaused(c, p)),
    fc.tuple(caller, fc.nat(6), fc.boolean()).map(([c, w, b]) => setBlocked(c, w, b)),
    fc.tuple(caller, fc.nat(6)).map(([c, w]) => seize(c, w)),
    fc.tuple(caller, fc.nat(6), fc.constantFrom(0n, 100n * USD, 2_000n * USD)).map(([c, w, v]) => configureMinter(c, w, v)),
    fc.tuple(caller, fc.nat(5)).map(([c, w]) => removeMinter(c, w)),
    fc.tuple(caller, fc.constantFrom(...GRANTABLE), anyone, fc.boolean()).map(([c, role, w, g]) => changeRole(c, role, w, g)),
    fc
      .tuple(fc.boolean(), fc.constantFrom(1_000n * USD, 2_500n * USD, 5_000n * USD), fc.constantFrom("t-5", "t", "t+1", "latest"))
      .map(([a, v, t]) => publish(a, v, t as "t-5" | "t" | "t+1" | "latest")),
    fc
      .tuple(caller, fc.boolean(), fc.constantFrom(60n, 3_600n, 86_400n), fc.constantFrom(0n, 100n, 500n))
      .map(([c, on, age, buf]) => configureGuard(c, on, age, buf)),
    fc.integer({ min: 1, max: 7_200 }).map(wait),
  ];

  class Step implements fc.AsyncCommand<Model, Real> {
    constructor(readonly action: Action) {}
    check = () => true;
    async run(m: Model, r: Real & { last?: { paused: boolean; balances: bigint[] } }): Promise<void> {
      await tick(m);
      stats.steps++;
      const effects = await this.action.run(m, r);
      if (effects.mint && m.guard.on) {
        const allowed = (m.oracle.reserves * (BPS - m.guard.bufferBps)) / BPS;
        expect(await r.token.totalSupply(), "supply ≤ attested reserves less the buffer after a mint").to.be.lte(allowed);
      }
      if (effects.nonce) {
        const [from, nonce] = effects.nonce;
        expect(await r.token.authorizationState(from, nonce), `authorizationState(${from}, ${nonce})`).to.equal(m.used.has(k2(from, nonce)));
      }
      for (const [role, account] of effects.roles ?? []) {
        expect(await r.token.hasRole(r.roleIds[role], account), `hasRole(${role}, ${account})`).to.equal(hasRole(m, r, role, account));
      }
      r.last = await checkState(m, r, r.last);
    }
    toString = () => this.action.label;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // The system under test
  // ---------------------------------------------------------------------------------------------------------------

  async function deploySystem() {
    const a = await namedAccounts();
    const token = (await deployNetDollar(a, "NetDollarV2")) as unknown as NetDollarV2;
    const attestor = a.rescuer;
    const oracle = await new ReserveOracle__factory(a.admin).deploy(token, a.admin, 0, [attestor]);
    const wallet = await new MockERC1271Wallet__factory(a.admin).deploy(a.carol);
    const reader = await new InvariantReader__factory(a.admin).deploy();
    await token.connect(a.minterAdmin).configureMinter(a.minter, 5_000n * USD);
    for (const [to, amount] of [
      [a.alice.address, 1_000n * USD],
      [a.bob.address, 1_000n * USD],
      [await wallet.getAddress(), 100n * USD],
    ] as const) {
      await token.connect(a.minter).mint(to, amount);
    }
    const now = BigInt((await ethers.provider.getBlock("latest"))!.timestamp);
    const data: AttestationData = {
      issuer: "NET Dollar Inc.",
      asOf: now - 10n,
      deployments: [{ chainId: 31337n, token: await token.getAddress(), blockNumber: 1n, outstanding: 2_100n * USD }],
      reserves: 3_000n * USD,
      lines: [{ kind: "cash", custodian: "Bank", amount: 3_000n * USD }],
      accountant: "LLP",
      reportSha256: ZeroHash,
    };
    await oracle.publish(data, attestor, await signAttestationData(attestor, data));
    await token.connect(a.admin).configureReserveGuard(oracle, 86_400, 100);
    return { a, token, oracle, reader, wallet: await wallet.getAddress(), attestAsOf: now - 10n };
  }

  async function initial(): Promise<{ model: Model; real: Real }> {
    const s = await loadFixture(deploySystem);
    const { a, token } = s;
    const users = [a.alice, a.bob, a.carol, a.relayer, a.other];
    const roleIds: Record<RoleName, string> = {
      admin: ZeroHash,
      minterAdmin: await token.MINTER_ADMIN_ROLE(),
      pauser: await token.PAUSER_ROLE(),
      blocklister: await token.BLOCKLISTER_ROLE(),
      seizer: await token.SEIZER_ROLE(),
      redeemer: await token.REDEEMER_ROLE(),
    };
    const real: Real = {
      a,
      token,
      oracle: s.oracle,
      reader: s.reader,
      wallet: s.wallet,
      domain: { name: "NET Dollar", version: "1", chainId: 31337n, verifyingContract: await token.getAddress() },
      users,
      holders: [...users.map((u) => u.address), s.wallet],
      callers: [a.admin, a.minterAdmin, a.pauser, a.blocklister, a.seizer, a.minter, ...users],
      tracked: [
        a.admin.address,
        a.minterAdmin.address,
        a.pauser.address,
        a.blocklister.address,
        a.seizer.address,
        a.minter.address,
        ...users.map((u) => u.address),
        s.wallet,
        await token.getAddress(),
      ],
      roleIds,
      attestor: a.rescuer,
    };
    const model: Model = {
      clock: BigInt((await ethers.provider.getBlock("latest"))!.timestamp),
      supply: 2_100n * USD,
      paused: false,
      balances: new Map([
        [a.alice.address, 1_000n * USD],
        [a.bob.address, 1_000n * USD],
        [s.wallet, 100n * USD],
      ]),
      blocked: new Set([await token.getAddress()]),
      minters: new Map([[a.minter.address, 2_900n * USD]]),
      allowances: new Map(),
      nonces: new Map(),
      used: new Set(),
      usedBy: new Map(),
      roles: new Map([
        [roleIds.admin, new Set([a.admin.address])],
        [roleIds.minterAdmin, new Set([a.minterAdmin.address])],
        [roleIds.pauser, new Set([a.pauser.address])],
        [roleIds.blocklister, new Set([a.blocklister.address])],
        [roleIds.seizer, new Set([a.seizer.address])],
        [roleIds.redeemer, new Set<string>()],
      ]),
      oracle: { reserves: 3_000n * USD, asOf: s.attestAsOf },
      guard: { on: true, maxAge: 86_400n, bufferBps: 100n },
    };
    return { model, real };
  }

  it("every outcome is the model's (success or the exact error) and the invariants hold after every step", async function () {
    const params = fcParameters("token", { numRuns: 120 });
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(
        fc.commands(
          actions.map((arb) => arb.map((a) => new Step(a))),
          { maxCommands: 30, size: "max" },
        ),
        async (cmds) => {
          const { model, real } = await initial();
          await checkState(model, real, undefined);
          await fc.asyncModelRun(() => ({ model, real }), cmds);
        },
      ),
      params,
    );
    const top = [...stats.byError.entries()].sort((x, y) => y[1] - x[1]);
    console.log(
      `      [fast-check token] ${params.numRuns} sequences, ${stats.steps} steps in ${((Date.now() - started) / 1000).toFixed(1)} s: ${stats.succeeded} succeeded, ${stats.refused} refused with the predicted error (${top.length} distinct errors: ${top.map(([n, c]) => `${n} ${c}`).join(", ")})`,
    );
    expect(stats.succeeded).to.be.greaterThan(0);
    expect(stats.refused).to.be.greaterThan(0);
  });
});
