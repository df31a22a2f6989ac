import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import type { Signer } from "ethers";
import type { TokenFixture } from "../../helpers/fixtures";
import { INITIAL_BALANCE, USD } from "../../helpers/fixtures";
import {
  buildAuthorization,
  randomNonce,
  signCancelAuthorization,
  signTransferAuthorization,
  type AuthorizationKind,
  type SplitSignature,
  type TokenDomain,
  type TransferAuthorization,
} from "../../../src/eip712";
import { highS, strangerKey } from "../../helpers/signatures";
import { atTimestamp, now, thenRevert } from "../../helpers/time";
import { submitTransferWithAuthorization } from "../../../src/token/authorizations";

type Form = "v, r, s" | "bytes";

/** EIP-3009 transfer, receive and cancel with authorization, in both signature forms, including ERC-1271 wallets. */
export function shouldBehaveLikeERC3009(fixture: () => Promise<TokenFixture>): void {
  describe("EIP-3009", function () {
    it("uses Circle's FiatToken type hashes", async function () {
      const { token } = await loadFixture(fixture);
      const id = ethers.id;
      expect(await token.TRANSFER_WITH_AUTHORIZATION_TYPEHASH()).to.equal(
        id("TransferWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)"),
      );
      expect(await token.RECEIVE_WITH_AUTHORIZATION_TYPEHASH()).to.equal(
        id("ReceiveWithAuthorization(address from,address to,uint256 value,uint256 validAfter,uint256 validBefore,bytes32 nonce)"),
      );
      expect(await token.CANCEL_AUTHORIZATION_TYPEHASH()).to.equal(id("CancelAuthorization(address authorizer,bytes32 nonce)"));
    });

    for (const kind of ["transfer", "receive"] as const) {
      for (const form of ["v, r, s", "bytes"] as const) {
        describe(`${kind}WithAuthorization (${form})`, function () {
          behavesLikeAuthorizedTransfer(fixture, kind, form);
        });
      }
    }

    for (const form of ["v, r, s", "bytes"] as const) {
      describe(`cancelAuthorization (${form})`, function () {
        behavesLikeCancel(fixture, form);
      });
    }
  });
}

/** Submits an authorization the way a relayer (transfer) or the payee (receive) does. */
function submitter(kind: AuthorizationKind, form: Form) {
  return async function submit(f: TokenFixture, auth: TransferAuthorization, sig: SplitSignature, caller?: Signer) {
    const payee = (await ethers.getSigners()).find((s) => s.address === auth.to);
    const sender = caller ?? (kind === "receive" ? payee! : f.relayer);
    const token = f.token.connect(sender);
    const args = [auth.from, auth.to, auth.value, auth.validAfter, auth.validBefore, auth.nonce] as const;
    if (kind === "transfer") {
      return form === "bytes"
        ? token["transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)"](...args, sig.signature)
        : token["transferWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)"](...args, sig.v, sig.r, sig.s);
    }
    return form === "bytes"
      ? token["receiveWithAuthorization(address,address,uint256,uint256,uint256,bytes32,bytes)"](...args, sig.signature)
      : token["receiveWithAuthorization(address,address,uint256,uint256,uint256,bytes32,uint8,bytes32,bytes32)"](...args, sig.v, sig.r, sig.s);
  };
}

function behavesLikeAuthorizedTransfer(fixture: () => Promise<TokenFixture>, kind: AuthorizationKind, form: Form) {
  const submit = submitter(kind, form);
  const sign = (signer: Signer, domain: TokenDomain, auth: TransferAuthorization) => signTransferAuthorization(signer, domain, auth, kind);

  async function setup() {
    const f = await loadFixture(fixture);
    const t = await now();
    const auth = buildAuthorization({ from: f.alice.address, to: f.carol.address, value: 3n * USD, validForSeconds: 600, now: t });
    const sig = await sign(f.alice, f.domain, auth);
    return { ...f, auth, sig };
  }

  it("moves the value, marks the nonce used and emits AuthorizationUsed then Transfer", async function () {
    const f = await setup();
    expect(await f.token.authorizationState(f.alice, f.auth.nonce)).to.equal(false);
    const tx = submit(f, f.auth, f.sig);
    await expect(tx).to.emit(f.token, "AuthorizationUsed").withArgs(f.alice.address, f.auth.nonce);
    await expect(tx)
      .to.emit(f.token, "Transfer")
      .withArgs(f.alice.address, f.carol.address, 3n * USD);
    expect(await f.token.balanceOf(f.alice)).to.equal(INITIAL_BALANCE - 3n * USD);
    expect(await f.token.balanceOf(f.carol)).to.equal(3n * USD);
    expect(await f.token.authorizationState(f.alice, f.auth.nonce)).to.equal(true);
  });

  it("accepts random nonces in any order", async function () {
    const f = await setup();
    const t = await now();
    const auths = [0, 1, 2].map(() => buildAuthorization({ from: f.alice.address, to: f.carol.address, value: 1n, validForSeconds: 600, now: t }));
    for (const auth of [auths[2], auths[0], auths[1]]) {
      await submit(f, auth, await sign(f.alice, f.domain, auth));
    }
    expect(await f.token.balanceOf(f.carol)).to.equal(3n);
  });

  it("refuses a replay", async function () {
    const f = await setup();
    await submit(f, f.auth, f.sig);
    await expect(submit(f, f.auth, f.sig))
      .to.be.revertedWithCustomError(f.token, "NetDollarAuthorizationAlreadyUsed")
      .withArgs(f.alice.address, f.auth.nonce);
  });

  it("refuses a cancelled nonce", async function () {
    const f = await setup();
    const cancel = await signCancelAuthorization(f.alice, f.domain, { authorizer: f.alice.address, nonce: f.auth.nonce });
    await f.token["cancelAuthorization(address,bytes32,uint8,bytes32,bytes32)"](f.alice, f.auth.nonce, cancel.v, cancel.r, cancel.s);
    await expect(submit(f, f.auth, f.sig))
      .to.be.revertedWithCustomError(f.token, "NetDollarAuthorizationAlreadyUsed")
      .withArgs(f.alice.address, f.auth.nonce);
  });

  it("refuses a signature by another key", async function () {
    const f = await setup();
    await expect(submit(f, f.auth, await sign(strangerKey(), f.domain, f.auth)))
      .to.be.revertedWithCustomError(f.token, "NetDollarInvalidSignature")
      .withArgs(f.alice.address);
  });

  it("refuses changed fields (value, payee)", async function () {
    const f = await setup();
    await expect(submit(f, { ...f.auth, value: f.auth.value + 1n }, f.sig))
      .to.be.revertedWithCustomError(f.token, "NetDollarInvalidSignature")
      .withArgs(f.alice.address);
    if (kind === "transfer") {
      await expect(submit(f, { ...f.auth, to: f.bob.address }, f.sig))
        .to.be.revertedWithCustomError(f.token, "NetDollarInvalidSignature")
        .withArgs(f.alice.address);
    }
  });

  it(`refuses a signature of the other type (${kind === "transfer" ? "receive" : "transfer"})`, async function () {
    const f = await setup();
    const other = await signTransferAuthorization(f.alice, f.domain, f.auth, kind === "transfer" ? "receive" : "transfer");
    await expect(submit(f, f.auth, other))
      .to.be.revertedWithCustomError(f.token, "NetDollarInvalidSignature")
      .withArgs(f.alice.address);
  });

  for (const [what, change] of [
    ["another chain", (d: TokenDomain) => ({ ...d, chainId: d.chainId + 1n })],
    ["another contract", (d: TokenDomain) => ({ ...d, verifyingContract: ethers.Wallet.createRandom().address })],
  ] as const) {
    it(`refuses a signature for ${what}`, async function () {
      const f = await setup();
      await expect(submit(f, f.auth, await sign(f.alice, change(f.domain), f.auth)))
        .to.be.revertedWithCustomError(f.token, "NetDollarInvalidSignature")
        .withArgs(f.alice.address);
    });
  }

  it("refuses the malleable (high-s) twin of a valid signature", async function () {
    const f = await setup();
    await expect(submit(f, f.auth, highS(f.sig)))
      .to.be.revertedWithCustomError(f.token, "NetDollarInvalidSignature")
      .withArgs(f.alice.address);
  });

  it("is valid strictly before validBefore: t-1 succeeds, t and t+1 are expired", async function () {
    const f = await setup();
    const { validBefore } = f.auth;
    await thenRevert(async () => {
      await atTimestamp(validBefore - 1n);
      await expect(submit(f, f.auth, f.sig)).to.emit(f.token, "AuthorizationUsed");
    });
    for (const t of [validBefore, validBefore + 1n]) {
      await thenRevert(async () => {
        await atTimestamp(t);
        await expect(submit(f, f.auth, f.sig))
          .to.be.revertedWithCustomError(f.token, "NetDollarAuthorizationExpired")
          .withArgs(validBefore, t);
      });
    }
  });

  it("is valid strictly after validAfter: t-1 and t are too early, t+1 succeeds", async function () {
    const f = await setup();
    const validAfter = (await now()) + 100n;
    const auth = { ...f.auth, validAfter, validBefore: validAfter + 600n };
    const sig = await sign(f.alice, f.domain, auth);
    for (const t of [validAfter - 1n, validAfter]) {
      await thenRevert(async () => {
        await atTimestamp(t);
        await expect(submit(f, auth, sig))
          .to.be.revertedWithCustomError(f.token, "NetDollarAuthorizationNotYetValid")
          .withArgs(validAfter, t);
      });
    }
    await atTimestamp(validAfter + 1n);
    await expect(submit(f, auth, sig)).to.emit(f.token, "AuthorizationUsed");
  });

  it("refuses while paused, and works again after unpause", async function () {
    const f = await setup();
    await f.token.connect(f.pauser).pause();
    await expect(submit(f, f.auth, f.sig))
      .to.be.revertedWithCustomError(f.token, "NetDollarPaused")
      .withArgs();
    expect(await f.token.authorizationState(f.alice, f.auth.nonce)).to.equal(false);
    await f.token.connect(f.pauser).unpause();
    await expect(submit(f, f.auth, f.sig)).to.emit(f.token, "AuthorizationUsed");
  });

  it("refuses a blocklisted payer, and leaves the nonce unused", async function () {
    const f = await setup();
    await f.token.connect(f.blocklister).blocklist(f.alice);
    await expect(submit(f, f.auth, f.sig))
      .to.be.revertedWithCustomError(f.token, "NetDollarBlocklisted")
      .withArgs(f.alice.address);
    expect(await f.token.authorizationState(f.alice, f.auth.nonce)).to.equal(false);
  });

  it(`refuses a blocklisted payee${kind === "receive" ? " (who is also the caller)" : ""}`, async function () {
    const f = await setup();
    await f.token.connect(f.blocklister).blocklist(f.carol);
    await expect(submit(f, f.auth, f.sig))
      .to.be.revertedWithCustomError(f.token, "NetDollarBlocklisted")
      .withArgs(f.carol.address);
  });

  if (kind === "transfer") {
    it("may be relayed by anyone, even a blocklisted relayer (who moves none of its own value)", async function () {
      const f = await setup();
      await f.token.connect(f.blocklister).blocklist(f.relayer);
      await expect(submit(f, f.auth, f.sig, f.relayer)).to.emit(f.token, "AuthorizationUsed");
    });
  } else {
    it("refuses any caller but the payee, so a watcher of the mempool cannot front-run it", async function () {
      const f = await setup();
      await expect(submit(f, f.auth, f.sig, f.relayer))
        .to.be.revertedWithCustomError(f.token, "NetDollarCallerNotPayee")
        .withArgs(f.relayer.address, f.carol.address);
    });
  }

  it("refuses more than the payer's balance and leaves the nonce unused", async function () {
    const f = await setup();
    const auth = { ...f.auth, value: INITIAL_BALANCE + 1n };
    await expect(submit(f, auth, await sign(f.alice, f.domain, auth)))
      .to.be.revertedWithCustomError(f.token, "ERC20InsufficientBalance")
      .withArgs(f.alice.address, INITIAL_BALANCE, INITIAL_BALANCE + 1n);
    expect(await f.token.authorizationState(f.alice, auth.nonce)).to.equal(false);
  });

  if (kind === "transfer") {
    // (receiveWithAuthorization cannot name the zero address: the zero address cannot call it)
    it("refuses the zero address as payee", async function () {
      const f = await setup();
      const auth = { ...f.auth, to: ethers.ZeroAddress };
      await expect(submit(f, auth, await sign(f.alice, f.domain, auth)))
        .to.be.revertedWithCustomError(f.token, "ERC20InvalidReceiver")
        .withArgs(ethers.ZeroAddress);
    });
  }

  describe("from a smart-contract wallet (ERC-1271)", function () {
    async function walletSetup() {
      const f = await setup();
      const wallet = await (await ethers.getContractFactory("MockERC1271Wallet")).deploy(f.other);
      const walletAddress = await wallet.getAddress();
      await f.token.connect(f.alice).transfer(walletAddress, 10n * USD);
      const auth = { ...f.auth, from: walletAddress };
      const sig = await sign(f.other, f.domain, auth); // the wallet's owner signs the same typed data
      return { ...f, wallet, walletAddress, auth, sig };
    }

    it("pays when the wallet accepts the signature", async function () {
      const f = await walletSetup();
      await expect(submit(f, f.auth, f.sig)).to.changeTokenBalances(f.token, [f.walletAddress, f.carol], [-3n * USD, 3n * USD]);
      expect(await f.token.authorizationState(f.walletAddress, f.auth.nonce)).to.equal(true);
    });

    it("refuses when the wallet rejects the signature", async function () {
      const f = await walletSetup();
      await f.wallet.setMode(1);
      await expect(submit(f, f.auth, f.sig))
        .to.be.revertedWithCustomError(f.token, "NetDollarInvalidSignature")
        .withArgs(f.walletAddress);
    });

    it("refuses when the wallet reverts", async function () {
      const f = await walletSetup();
      await f.wallet.setMode(2);
      await expect(submit(f, f.auth, f.sig))
        .to.be.revertedWithCustomError(f.token, "NetDollarInvalidSignature")
        .withArgs(f.walletAddress);
    });

    it("refuses a signature by a key that is not the wallet's owner", async function () {
      const f = await walletSetup();
      await expect(submit(f, f.auth, await sign(f.alice, f.domain, f.auth)))
        .to.be.revertedWithCustomError(f.token, "NetDollarInvalidSignature")
        .withArgs(f.walletAddress);
    });
  });
}

function behavesLikeCancel(fixture: () => Promise<TokenFixture>, form: Form) {
  async function cancel(f: TokenFixture, authorizer: string, nonce: string, sig: SplitSignature) {
    const token = f.token.connect(f.relayer);
    return form === "bytes"
      ? token["cancelAuthorization(address,bytes32,bytes)"](authorizer, nonce, sig.signature)
      : token["cancelAuthorization(address,bytes32,uint8,bytes32,bytes32)"](authorizer, nonce, sig.v, sig.r, sig.s);
  }

  async function setup() {
    const f = await loadFixture(fixture);
    const nonce = randomNonce();
    const sig = await signCancelAuthorization(f.alice, f.domain, { authorizer: f.alice.address, nonce });
    return { ...f, nonce, sig };
  }

  it("marks the nonce used and emits AuthorizationCanceled", async function () {
    const f = await setup();
    await expect(cancel(f, f.alice.address, f.nonce, f.sig))
      .to.emit(f.token, "AuthorizationCanceled")
      .withArgs(f.alice.address, f.nonce);
    expect(await f.token.authorizationState(f.alice, f.nonce)).to.equal(true);
  });

  it("refuses to cancel twice", async function () {
    const f = await setup();
    await cancel(f, f.alice.address, f.nonce, f.sig);
    await expect(cancel(f, f.alice.address, f.nonce, f.sig))
      .to.be.revertedWithCustomError(f.token, "NetDollarAuthorizationAlreadyUsed")
      .withArgs(f.alice.address, f.nonce);
  });

  it("refuses to cancel a nonce already used for a transfer", async function () {
    const f = await setup();
    const auth = buildAuthorization({ from: f.alice.address, to: f.bob.address, value: 1n, validForSeconds: 600, now: await now(), nonce: f.nonce });
    const sig = await signTransferAuthorization(f.alice, f.domain, auth);
    await submitTransferWithAuthorization(f.token, auth, sig);
    await expect(cancel(f, f.alice.address, f.nonce, f.sig))
      .to.be.revertedWithCustomError(f.token, "NetDollarAuthorizationAlreadyUsed")
      .withArgs(f.alice.address, f.nonce);
  });

  it("refuses a cancellation signed by another key", async function () {
    const f = await setup();
    const sig = await signCancelAuthorization(strangerKey(), f.domain, { authorizer: f.alice.address, nonce: f.nonce });
    await expect(cancel(f, f.alice.address, f.nonce, sig))
      .to.be.revertedWithCustomError(f.token, "NetDollarInvalidSignature")
      .withArgs(f.alice.address);
  });

  it("refuses a cancellation for another chain", async function () {
    const f = await setup();
    const sig = await signCancelAuthorization(
      f.alice,
      { ...f.domain, chainId: f.domain.chainId + 1n },
      {
        authorizer: f.alice.address,
        nonce: f.nonce,
      },
    );
    await expect(cancel(f, f.alice.address, f.nonce, sig))
      .to.be.revertedWithCustomError(f.token, "NetDollarInvalidSignature")
      .withArgs(f.alice.address);
  });

  it("refuses the malleable (high-s) twin of a valid signature", async function () {
    const f = await setup();
    await expect(cancel(f, f.alice.address, f.nonce, highS(f.sig)))
      .to.be.revertedWithCustomError(f.token, "NetDollarInvalidSignature")
      .withArgs(f.alice.address);
  });

  it("works while paused and for a blocklisted authorizer (it moves no value)", async function () {
    const f = await setup();
    await f.token.connect(f.pauser).pause();
    await f.token.connect(f.blocklister).blocklist(f.alice);
    await expect(cancel(f, f.alice.address, f.nonce, f.sig)).to.emit(f.token, "AuthorizationCanceled");
  });

  it("accepts a cancellation by a smart-contract wallet (ERC-1271) and refuses one it rejects", async function () {
    const f = await setup();
    const wallet = await (await ethers.getContractFactory("MockERC1271Wallet")).deploy(f.other);
    const walletAddress = await wallet.getAddress();
    const sig = await signCancelAuthorization(f.other, f.domain, { authorizer: walletAddress, nonce: f.nonce });
    await thenRevert(async () => {
      await wallet.setMode(1);
      await expect(cancel(f, walletAddress, f.nonce, sig))
        .to.be.revertedWithCustomError(f.token, "NetDollarInvalidSignature")
        .withArgs(walletAddress);
    });
    await expect(cancel(f, walletAddress, f.nonce, sig))
      .to.emit(f.token, "AuthorizationCanceled")
      .withArgs(walletAddress, f.nonce);
  });
}
