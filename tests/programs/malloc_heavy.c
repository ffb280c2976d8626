/* Exercises malloc, calloc, realloc and free: linked lists, a binary search tree, realloc growth
 * and many allocation sizes, large blocks that glibc maps with mmap; prints checksums. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct node {
    struct node *next;
    uint64_t value;
};

struct tree {
    struct tree *left, *right;
    uint32_t key;
    char name[12];
};

static uint64_t rng = 0x9e3779b97f4a7c15ULL;
static uint64_t next_random(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static struct tree *insert(struct tree *t, uint32_t key) {
    if (!t) {
        t = calloc(1, sizeof *t);
        t->key = key;
        snprintf(t->name, sizeof t->name, "k%u", key % 100000);
        return t;
    }
    if (key < t->key)
        t->left = insert(t->left, key);
    else if (key > t->key)
        t->right = insert(t->right, key);
    return t;
}

static uint64_t walk(const struct tree *t, uint64_t h, unsigned *count) {
    if (!t)
        return h;
    h = walk(t->left, h, count);
    h = h * 1000003 ^ t->key ^ (uint64_t)strlen(t->name) << 32;
    ++*count;
    return walk(t->right, h, count);
}

static unsigned depth(const struct tree *t) {
    if (!t)
        return 0;
    unsigned l = depth(t->left), r = depth(t->right);
    return 1 + (l > r ? l : r);
}

static void free_tree(struct tree *t) {
    if (t) {
        free_tree(t->left);
        free_tree(t->right);
        free(t);
    }
}

int main(void) {
    /* A list of 20000 nodes, reversed, summed and freed. */
    struct node *head = NULL;
    for (uint64_t i = 0; i < 20000; i++) {
        struct node *n = malloc(sizeof *n);
        n->value = i * i;
        n->next = head;
        head = n;
    }
    struct node *rev = NULL;
    while (head) {
        struct node *n = head;
        head = n->next;
        n->next = rev;
        rev = n;
    }
    uint64_t sum = 0, pos = 0;
    for (struct node *n = rev; n; n = n->next)
        sum += n->value * ++pos;
    while (rev) {
        struct node *n = rev->next;
        free(rev);
        rev = n;
    }
    printf("list %llu\n", (unsigned long long)sum);

    /* A tree of random keys. */
    struct tree *root = NULL;
    for (int i = 0; i < 5000; i++)
        root = insert(root, (uint32_t)next_random());
    unsigned count = 0;
    uint64_t h = walk(root, 0, &count);
    printf("tree %u nodes depth %u hash %llx\n", count, depth(root), (unsigned long long)h);
    free_tree(root);

    /* Realloc growth of a byte buffer and of an int array. */
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (int i = 0; i < 30000; i++) {
        char piece[32];
        int n = snprintf(piece, sizeof piece, "%d,", i * 7);
        if (len + n + 1 > cap) {
            cap = cap ? cap * 3 / 2 + 1 : 8;
            buf = realloc(buf, cap);
        }
        memcpy(buf + len, piece, n);
        len += n;
        buf[len] = 0;
    }
    uint64_t bh = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++)
        bh = (bh ^ (unsigned char)buf[i]) * 1099511628211ULL;
    printf("realloc %zu bytes fnv %llx\n", len, (unsigned long long)bh);
    free(buf);

    /* Many sizes live at once, freed in a scrambled order, including mmap-sized blocks. */
    enum { N = 3000 };
    static unsigned char *blocks[N];
    static size_t sizes[N];
    for (int i = 0; i < N; i++) {
        size_t s = (next_random() % 7 == 0) ? next_random() % 300000 : next_random() % 2000;
        sizes[i] = s;
        blocks[i] = (i % 3) ? malloc(s + 1) : calloc(s + 1, 1);
        memset(blocks[i], i & 0xff, s + 1);
    }
    uint64_t check = 0;
    for (int round = 0; round < 3; round++) {
        for (int i = round; i < N; i += 3) {
            size_t ns = sizes[i] / 2 + (next_random() % 5000);
            unsigned char *p = realloc(blocks[i], ns + 1);
            size_t keep = ns < sizes[i] ? ns : sizes[i];
            for (size_t k = 0; k <= keep; k += 97)
                check += p[k] == (unsigned char)(i & 0xff);
            memset(p, (i + 1) & 0xff, ns + 1);
            blocks[i] = p;
            sizes[i] = ns;
        }
    }
    for (int i = 0; i < N; i++) {
        int j = (int)((i * 7919L) % N);
        check += blocks[j][sizes[j]];
        free(blocks[j]);
    }
    printf("blocks check %llu\n", (unsigned long long)check);

    /* aligned_alloc and posix_memalign give aligned blocks. */
    int aligned = 1;
    for (size_t a = 16; a <= 4096; a *= 2) {
        void *p = aligned_alloc(a, a * 3);
        void *q;
        aligned &= ((uintptr_t)p % a == 0) && posix_memalign(&q, a, 100) == 0 &&
                   (uintptr_t)q % a == 0;
        free(p);
        free(q);
    }
    printf("aligned %d\n", aligned);
    return 0;
}
