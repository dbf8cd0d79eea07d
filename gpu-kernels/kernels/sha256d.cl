// SHA256d of an 80-byte Bitcoin block header over a range of nonces (p2share, gpu-kernels).
//
// The host compresses the header's first 64 bytes once per job (the midstate), runs rounds 0-2
// of the second block (they see no nonce bits) and precomputes the nonce-free schedule words;
// see `Precomputed` in src/sha256.rs and `KernelParams` in src/opencl.rs. Each work item hashes
// VECSIZE consecutive nonces, one per lane of a uintN vector (VECSIZE = 1, 2, 4, 8 or 16, set
// with -D VECSIZE=N from the device's preferred int vector width). The second SHA-256 stops
// after round 60, where H7 (the hash's most significant 32 bits once byte-swapped) is known;
// only nonces whose H7 passes the target's top word are written out, and the host re-checks
// each one with the reference SHA256d against the full 256-bit target.
//
// Arguments:
//   results   [0] counts every passing nonce (it may exceed `capacity`: the host then re-runs
//             the launch with a larger buffer); [1 .. 1 + capacity] hold passing nonces, in no
//             particular order.
//   capacity  nonce slots in `results` after the count.
//   base      the launch's first nonce; lane `i` of work item `g` hashes base + g*VECSIZE + i
//             (wrapping past 2^32 - 1).
//   count     nonces in the launch; lanes at or past it hash but never report.
//   mid       the midstate (state after the first 64 header bytes).
//   s3        the state after rounds 0-2 of the header's second block.
//   pre       (round 3's T1 without W3, round 3's T2, W16, W17, W18 - sigma0(W3), W19 - W3,
//              the target's top word, unused).

#ifndef VECSIZE
#define VECSIZE 1
#endif

#if VECSIZE == 1
typedef uint vu;
#define LANE_OFFSETS ((vu)(0u))
#elif VECSIZE == 2
typedef uint2 vu;
#define LANE_OFFSETS ((vu)(0u, 1u))
#elif VECSIZE == 4
typedef uint4 vu;
#define LANE_OFFSETS ((vu)(0u, 1u, 2u, 3u))
#elif VECSIZE == 8
typedef uint8 vu;
#define LANE_OFFSETS ((vu)(0u, 1u, 2u, 3u, 4u, 5u, 6u, 7u))
#elif VECSIZE == 16
typedef uint16 vu;
#define LANE_OFFSETS ((vu)(0u, 1u, 2u, 3u, 4u, 5u, 6u, 7u, 8u, 9u, 10u, 11u, 12u, 13u, 14u, 15u))
#else
#error "VECSIZE must be 1, 2, 4, 8 or 16"
#endif

#define CAT_(a, b) a##b
#define CAT(a, b) CAT_(a, b)

__constant uint K[64] = {
    0x428a2f98u, 0x71374491u, 0xb5c0fbcfu, 0xe9b5dba5u, 0x3956c25bu, 0x59f111f1u, 0x923f82a4u,
    0xab1c5ed5u, 0xd807aa98u, 0x12835b01u, 0x243185beu, 0x550c7dc3u, 0x72be5d74u, 0x80deb1feu,
    0x9bdc06a7u, 0xc19bf174u, 0xe49b69c1u, 0xefbe4786u, 0x0fc19dc6u, 0x240ca1ccu, 0x2de92c6fu,
    0x4a7484aau, 0x5cb0a9dcu, 0x76f988dau, 0x983e5152u, 0xa831c66du, 0xb00327c8u, 0xbf597fc7u,
    0xc6e00bf3u, 0xd5a79147u, 0x06ca6351u, 0x14292967u, 0x27b70a85u, 0x2e1b2138u, 0x4d2c6dfcu,
    0x53380d13u, 0x650a7354u, 0x766a0abbu, 0x81c2c92eu, 0x92722c85u, 0xa2bfe8a1u, 0xa81a664bu,
    0xc24b8b70u, 0xc76c51a3u, 0xd192e819u, 0xd6990624u, 0xf40e3585u, 0x106aa070u, 0x19a4c116u,
    0x1e376c08u, 0x2748774cu, 0x34b0bcb5u, 0x391c0cb3u, 0x4ed8aa4au, 0x5b9cca4fu, 0x682e6ff3u,
    0x748f82eeu, 0x78a5636fu, 0x84c87814u, 0x8cc70208u, 0x90befffau, 0xa4506cebu, 0xbef9a3f7u,
    0xc67178f2u};

#define IV0 0x6a09e667u
#define IV1 0xbb67ae85u
#define IV2 0x3c6ef372u
#define IV3 0xa54ff53au
#define IV4 0x510e527fu
#define IV5 0x9b05688cu
#define IV6 0x1f83d9abu
#define IV7 0x5be0cd19u

// The padding word after the message, and the bit lengths of an 80-byte header and of a
// 32-byte digest (each block's last word).
#define PAD 0x80000000u
#define HEADER_BITS 640u
#define DIGEST_BITS 256u

// rotate() rotates left; SHA-256 rotates right.
#define ROTR(x, n) rotate((x), (vu)(32u - (n)))
#define BSIG0(x) (ROTR((x), 2u) ^ ROTR((x), 13u) ^ ROTR((x), 22u))
#define BSIG1(x) (ROTR((x), 6u) ^ ROTR((x), 11u) ^ ROTR((x), 25u))
#define SSIG0(x) (ROTR((x), 7u) ^ ROTR((x), 18u) ^ ((x) >> 3u))
#define SSIG1(x) (ROTR((x), 17u) ^ ROTR((x), 19u) ^ ((x) >> 10u))
// Ch and Maj as two-level xor/and forms rather than bitselect(): LLVM (PoCL) turns each into two
// vpternlogd where bitselect() costs three instructions (and, andn, ternlog), which made the
// whole kernel about 5 % slower on AVX-512; GPU compilers map either form onto their
// three-input logic or bit-field-insert instructions.
// Ch: f where e is set, g elsewhere.
#define CH(e, f, g) ((((f) ^ (g)) & (e)) ^ (g))
// Maj: where a and b agree the majority is theirs, where they differ it is c's.
#define MAJ(a, b, c) ((((a) ^ (b)) & (c)) ^ ((a) & (b)))
// Byte swap (bitselect(a, b, c) takes b where c is set, a elsewhere): bytes 3 and 1 from a
// right rotation by 8, bytes 2 and 0 from a left one.
#define BSWAP(x) bitselect(rotate((x), (vu)(8u)), rotate((x), (vu)(24u)), (vu)(0xff00ff00u))

// One round; `kw` is K[t] + W[t]. The eight state words stay in eight variables whose roles
// rotate: round t uses R(t mod 8) below, which writes the new e into `d` and the new a into `h`.
#define RND(a, b, c, d, e, f, g, h, kw)                                                          \
    {                                                                                            \
        vu t1_ = (h) + BSIG1(e) + CH((e), (f), (g)) + (kw);                                      \
        (d) += t1_;                                                                              \
        (h) = t1_ + BSIG0(a) + MAJ((a), (b), (c));                                               \
    }
#define R0(kw) RND(A, B, C, D, E, F, G, H, kw)
#define R1(kw) RND(H, A, B, C, D, E, F, G, kw)
#define R2(kw) RND(G, H, A, B, C, D, E, F, kw)
#define R3(kw) RND(F, G, H, A, B, C, D, E, kw)
#define R4(kw) RND(E, F, G, H, A, B, C, D, kw)
#define R5(kw) RND(D, E, F, G, H, A, B, C, kw)
#define R6(kw) RND(C, D, E, F, G, H, A, B, kw)
#define R7(kw) RND(B, C, D, E, F, G, H, A, kw)

// The message schedule as a ring of sixteen words: W[t] replaces W[t - 16] in slot t mod 16.
#define SCHED(w, wm2, wm7, wm15) (w) += SSIG1(wm2) + (wm7) + SSIG0(wm15)

// Round o + j (o a multiple of 16, o + j >= 16) with its schedule step.
#define S0(o) SCHED(W0, W14, W9, W1); R0(W0 + K[(o) + 0]);
#define S1(o) SCHED(W1, W15, W10, W2); R1(W1 + K[(o) + 1]);
#define S2(o) SCHED(W2, W0, W11, W3); R2(W2 + K[(o) + 2]);
#define S3(o) SCHED(W3, W1, W12, W4); R3(W3 + K[(o) + 3]);
#define S4(o) SCHED(W4, W2, W13, W5); R4(W4 + K[(o) + 4]);
#define S5(o) SCHED(W5, W3, W14, W6); R5(W5 + K[(o) + 5]);
#define S6(o) SCHED(W6, W4, W15, W7); R6(W6 + K[(o) + 6]);
#define S7(o) SCHED(W7, W5, W0, W8); R7(W7 + K[(o) + 7]);
#define S8(o) SCHED(W8, W6, W1, W9); R0(W8 + K[(o) + 8]);
#define S9(o) SCHED(W9, W7, W2, W10); R1(W9 + K[(o) + 9]);
#define S10(o) SCHED(W10, W8, W3, W11); R2(W10 + K[(o) + 10]);
#define S11(o) SCHED(W11, W9, W4, W12); R3(W11 + K[(o) + 11]);
#define S12(o) SCHED(W12, W10, W5, W13); R4(W12 + K[(o) + 12]);
#define S13(o) SCHED(W13, W11, W6, W14); R5(W13 + K[(o) + 13]);
#define S14(o) SCHED(W14, W12, W7, W15); R6(W14 + K[(o) + 14]);
#define S15(o) SCHED(W15, W13, W8, W0); R7(W15 + K[(o) + 15]);
#define S16(o)                                                                                   \
    S0(o) S1(o) S2(o) S3(o) S4(o) S5(o) S6(o) S7(o) S8(o) S9(o) S10(o) S11(o) S12(o) S13(o)     \
        S14(o) S15(o)

__kernel void sha256d_scan(__global uint *restrict results, const uint capacity, const uint base,
                           const uint count, const uint8 mid, const uint8 s3, const uint8 pre) {
    const uint first = (uint)get_global_id(0) * (uint)VECSIZE;
    const vu nonce = (vu)(base + first) + LANE_OFFSETS;
    const vu w3 = BSWAP(nonce);

    // First hash, the header's second block, from round 3 (the first to see the nonce). The
    // roles after round 2: a = F, b = G, c = H, d = A, e = B, f = C, g = D (h is folded into
    // pre.s0, round 3's T1 without its message word).
    vu F = (vu)(s3.s0), G = (vu)(s3.s1), H = (vu)(s3.s2), A = (vu)(s3.s3);
    vu B = (vu)(s3.s4), C = (vu)(s3.s5), D = (vu)(s3.s6), E;
    {
        vu t1 = w3 + pre.s0;
        A += t1;
        E = t1 + pre.s1;
    }
    // Rounds 4-15: padding, zeros, the length.
    R4(K[4] + PAD);
    R5(K[5]);
    R6(K[6]);
    R7(K[7]);
    R0(K[8]);
    R1(K[9]);
    R2(K[10]);
    R3(K[11]);
    R4(K[12]);
    R5(K[13]);
    R6(K[14]);
    R7(K[15] + HEADER_BITS);
    // W16-W19 from the host (W18 and W19 plus their nonce terms); slots 4-15 still hold
    // W4-W15, all the ring needs from round 20 on.
    vu W0 = (vu)(pre.s2), W1 = (vu)(pre.s3), W2 = pre.s4 + SSIG0(w3), W3 = pre.s5 + w3;
    vu W4 = (vu)(PAD), W5 = (vu)(0u), W6 = (vu)(0u), W7 = (vu)(0u), W8 = (vu)(0u);
    vu W9 = (vu)(0u), W10 = (vu)(0u), W11 = (vu)(0u), W12 = (vu)(0u), W13 = (vu)(0u);
    vu W14 = (vu)(0u), W15 = (vu)(HEADER_BITS);
    R0(W0 + K[16]);
    R1(W1 + K[17]);
    R2(W2 + K[18]);
    R3(W3 + K[19]);
    S4(16) S5(16) S6(16) S7(16) S8(16) S9(16) S10(16) S11(16) S12(16) S13(16) S14(16) S15(16)
    S16(32)
    S16(48)

    // Second hash: the first digest, padding, the length, from the initial state.
    W0 = A + mid.s0;
    W1 = B + mid.s1;
    W2 = C + mid.s2;
    W3 = D + mid.s3;
    W4 = E + mid.s4;
    W5 = F + mid.s5;
    W6 = G + mid.s6;
    W7 = H + mid.s7;
    W8 = (vu)(PAD);
    W9 = (vu)(0u);
    W10 = (vu)(0u);
    W11 = (vu)(0u);
    W12 = (vu)(0u);
    W13 = (vu)(0u);
    W14 = (vu)(0u);
    W15 = (vu)(DIGEST_BITS);
    A = (vu)(IV0);
    B = (vu)(IV1);
    C = (vu)(IV2);
    D = (vu)(IV3);
    E = (vu)(IV4);
    F = (vu)(IV5);
    G = (vu)(IV6);
    H = (vu)(IV7);
    R0(W0 + K[0]);
    R1(W1 + K[1]);
    R2(W2 + K[2]);
    R3(W3 + K[3]);
    R4(W4 + K[4]);
    R5(W5 + K[5]);
    R6(W6 + K[6]);
    R7(W7 + K[7]);
    R0(K[8] + PAD);
    R1(K[9]);
    R2(K[10]);
    R3(K[11]);
    R4(K[12]);
    R5(K[13]);
    R6(K[14]);
    R7(K[15] + DIGEST_BITS);
    S16(16)
    S16(32)
    // Rounds 48-60. H7 = IV7 + h after round 63 = IV7 + e after round 60, which round 60
    // (R4) writes into H; the rest of the state is dead and the compiler drops it.
    S0(48) S1(48) S2(48) S3(48) S4(48) S5(48) S6(48) S7(48) S8(48) S9(48) S10(48) S11(48)
    S12(48)

    // The hash's most significant 32 bits against the target's.
    const vu top = BSWAP(H + IV7);
    const uint target = pre.s6;
#if VECSIZE == 1
    if (top <= target && first < count) {
        uint slot = atomic_inc(&results[0]);
        if (slot < capacity) {
            results[1 + slot] = nonce;
        }
    }
#else
    if (any(top <= (vu)(target))) {
        uint tops[VECSIZE];
        CAT(vstore, VECSIZE)(top, 0, tops);
        for (uint i = 0; i < VECSIZE; i++) {
            if (tops[i] <= target && first + i < count) {
                uint slot = atomic_inc(&results[0]);
                if (slot < capacity) {
                    results[1 + slot] = base + first + i;
                }
            }
        }
    }
#endif
}
