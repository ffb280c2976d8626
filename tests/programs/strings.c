/* Runs glibc's string functions (memcpy, memmove, memset, strlen, strchr, strrchr, strstr,
 * strcmp, strncmp, memcmp, memchr, strspn, strcspn, strtok, strcpy, strcat) over many lengths
 * and alignments, which takes glibc's vectorized paths, and prints checksums of the results. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static unsigned char src[1024 + 64], dst[1024 + 64];
static char s1[600], s2[600];
static uint64_t h = 1469598103934665603ULL;

static void mix(uint64_t v) { h = (h ^ v) * 1099511628211ULL; }

static int sign(int v) { return (v > 0) - (v < 0); }

int main(void) {
    for (unsigned i = 0; i < sizeof src; i++)
        src[i] = (unsigned char)(i * 37 + 11);

    /* memcpy, memmove (both overlaps), memset, memcmp, memchr. */
    for (unsigned len = 0; len <= 300; len += (len < 70 ? 1 : 13)) {
        for (unsigned a = 0; a < 16; a += 3) {
            for (unsigned b = 0; b < 16; b += 5) {
                memset(dst, 0xaa, sizeof dst);
                memcpy(dst + b, src + a, len);
                for (unsigned k = 0; k < len + 32 && b + k < sizeof dst; k++)
                    mix(dst[b + k]);
                mix((uint64_t)sign(memcmp(dst + b, src + a, len)));
                if (len) {
                    dst[b + len - 1] ^= 1;
                    mix((uint64_t)sign(memcmp(dst + b, src + a, len)) + 7);
                }
                memmove(dst + a + 3, dst + a, len);
                memmove(dst + b, dst + b + 5, len);
                for (unsigned k = 0; k < len + 8; k++)
                    mix(dst[k]);
                memset(dst + a, (int)(len & 0xff), len);
                const unsigned char *p = memchr(dst, 0xaa, sizeof dst);
                mix(p ? (uint64_t)(p - dst) : 9999);
            }
        }
    }
    printf("mem %016llx\n", (unsigned long long)h);

    /* strlen, strchr, strrchr, strcmp, strncmp, strcpy, strcat on strings at every offset. */
    for (unsigned len = 0; len < 200; len += (len < 40 ? 1 : 7)) {
        for (unsigned a = 0; a < 16; a++) {
            char *p = s1 + a;
            for (unsigned k = 0; k < len; k++)
                p[k] = (char)('a' + (k * 7 + a) % 26);
            p[len] = 0;
            mix(strlen(p));
            const char *c = strchr(p, 'q');
            mix(c ? (uint64_t)(c - p) : 5555);
            c = strrchr(p, 'q');
            mix(c ? (uint64_t)(c - p) : 6666);
            mix(strchr(p, 0) == p + len);
            char *q = s2 + (a * 5) % 16;
            strcpy(q, p);
            mix((uint64_t)sign(strcmp(p, q)) + 10);
            if (len) {
                q[len / 2] = 'A';
                mix((uint64_t)sign(strcmp(p, q)) + 20);
                mix((uint64_t)sign(strncmp(p, q, len / 2)) + 30);
                mix((uint64_t)sign(strncmp(p, q, len / 2 + 1)) + 40);
            }
            strcat(q, "tail");
            mix(strlen(q));
        }
    }
    printf("str %016llx\n", (unsigned long long)h);

    /* strstr, strspn, strcspn, strpbrk. */
    static char hay[700];
    for (unsigned i = 0; i < sizeof hay - 1; i++)
        hay[i] = (char)('a' + (i * i + 3 * i) % 5);
    const char *needles[] = {"a", "abc", "eda", "bbbb", "ceeb", "dacb", "aaaaaa", "xyz", "",
                             "baeaeca"};
    for (unsigned n = 0; n < sizeof needles / sizeof needles[0]; n++) {
        for (unsigned off = 0; off < 40; off += 3) {
            const char *r = strstr(hay + off, needles[n]);
            printf("%ld ", r ? (long)(r - hay) : -1L);
        }
        printf("| %zu %zu\n", strspn(hay + n, "abc"), strcspn(hay + n, needles[n]));
    }
    const char *pb = strpbrk(hay, "de");
    printf("strpbrk %ld\n", pb ? (long)(pb - hay) : -1L);

    /* strtok and strtok_r. */
    char text[] = "  the quick,brown;;fox  jumps,, over the;lazy dog ";
    for (char *t = strtok(text, " ,;"); t; t = strtok(NULL, " ,;"))
        printf("<%s>", t);
    printf("\n");
    char csv[] = "a=1&b=22&&c=333&d";
    char *save;
    for (char *t = strtok_r(csv, "&", &save); t; t = strtok_r(NULL, "&", &save)) {
        char *eq = strchr(t, '=');
        printf("[%.*s:%s]", eq ? (int)(eq - t) : (int)strlen(t), t, eq ? eq + 1 : "-");
    }
    printf("\n");
    printf("final %016llx\n", (unsigned long long)h);
    return 0;
}
