/*
 * slt_md5.c: MD5 as RFC 1321 defines it, for the sqllogictest result hashes
 * ("N values hashing to <md5>").  Not for security: MD5 is broken as a
 * cryptographic hash, and here it only fingerprints results.  The message is
 * processed in 64-byte blocks of sixteen little-endian words, four rounds of
 * sixteen steps each; the digest is the four state words, little-endian.
 * Tested against the RFC's test suite in tests/slt/test_md5.c.
 */
#include "slt.h"

/* K[i] = floor(|sin(i + 1)| * 2^32), RFC 1321 section 3.4. */
static const uint32_t K[64] = {
    0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee,
    0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
    0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be,
    0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
    0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa,
    0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
    0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed,
    0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
    0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c,
    0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
    0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05,
    0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
    0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039,
    0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
    0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1,
    0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

/* Left-rotation amounts, four per round. */
static const unsigned char S[4][4] = {
    {7, 12, 17, 22}, {5, 9, 14, 20}, {4, 11, 16, 23}, {6, 10, 15, 21},
};

static uint32_t rotl(uint32_t x, unsigned n) { return (x << n) | (x >> (32 - n)); }

static void transform(uint32_t state[4], const unsigned char block[64])
{
    uint32_t x[16];
    for (int i = 0; i < 16; i++)
        x[i] = (uint32_t)block[4 * i] | (uint32_t)block[4 * i + 1] << 8 |
               (uint32_t)block[4 * i + 2] << 16 | (uint32_t)block[4 * i + 3] << 24;
    uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
    for (int i = 0; i < 64; i++) {
        uint32_t f;
        int g, round = i / 16;
        switch (round) {
        case 0:
            f = (b & c) | (~b & d);
            g = i;
            break;
        case 1:
            f = (b & d) | (c & ~d);
            g = (5 * i + 1) % 16;
            break;
        case 2:
            f = b ^ c ^ d;
            g = (3 * i + 5) % 16;
            break;
        default:
            f = c ^ (b | ~d);
            g = (7 * i) % 16;
            break;
        }
        uint32_t t = d;
        d = c;
        c = b;
        b = b + rotl(a + f + K[i] + x[g], S[round][i % 4]);
        a = t;
    }
    state[0] += a;
    state[1] += b;
    state[2] += c;
    state[3] += d;
}

void slt_md5_init(slt_md5 *m)
{
    m->state[0] = 0x67452301;
    m->state[1] = 0xefcdab89;
    m->state[2] = 0x98badcfe;
    m->state[3] = 0x10325476;
    m->nbytes = 0;
}

void slt_md5_update(slt_md5 *m, const void *data, size_t n)
{
    const unsigned char *p = data;
    size_t have = (size_t)(m->nbytes % 64);
    m->nbytes += n;
    if (have > 0) {
        size_t take = IVM_MIN(n, 64 - have);
        memcpy(m->block + have, p, take);
        p += take;
        n -= take;
        if (have + take < 64)
            return;
        transform(m->state, m->block);
    }
    for (; n >= 64; p += 64, n -= 64)
        transform(m->state, p);
    memcpy(m->block, p, n);
}

void slt_md5_final_hex(slt_md5 *m, char hex_out[33])
{
    /* Padding: one 1 bit, zeros up to 56 bytes mod 64, then the message
     * length in bits as a little-endian 64-bit number. */
    uint64_t bits = m->nbytes * 8;
    unsigned char pad[72];
    size_t have = (size_t)(m->nbytes % 64);
    size_t npad = (have < 56 ? 56 - have : 120 - have);
    memset(pad, 0, sizeof pad);
    pad[0] = 0x80;
    for (int i = 0; i < 8; i++)
        pad[npad + i] = (unsigned char)(bits >> (8 * i));
    slt_md5_update(m, pad, npad + 8);
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        unsigned byte = (m->state[i / 4] >> (8 * (i % 4))) & 0xff;
        hex_out[2 * i] = hex[byte >> 4];
        hex_out[2 * i + 1] = hex[byte & 15];
    }
    hex_out[32] = '\0';
}
