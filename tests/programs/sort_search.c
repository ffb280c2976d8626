/* Sorts ints, strings and structs with qsort (several comparators) and looks them up with
 * bsearch; prints the sorted data and the lookups. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct person {
    char name[16];
    int age;
    double score;
};

static int cmp_int(const void *a, const void *b) {
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int cmp_int_desc(const void *a, const void *b) { return cmp_int(b, a); }

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_person(const void *a, const void *b) {
    const struct person *p = a, *q = b;
    if (p->age != q->age)
        return p->age - q->age;
    if (p->score != q->score)
        return p->score < q->score ? -1 : 1;
    return strcmp(p->name, q->name);
}

static uint32_t state = 12345;
static uint32_t rnd(void) {
    state = state * 1103515245u + 12345u;
    return state >> 8;
}

int main(void) {
    enum { N = 20000 };
    static int v[N];
    for (int i = 0; i < N; i++)
        v[i] = (int)(rnd() % 100000) - 50000;
    qsort(v, N, sizeof v[0], cmp_int);
    int sorted = 1;
    uint64_t h = 0;
    for (int i = 0; i < N; i++) {
        sorted &= i == 0 || v[i - 1] <= v[i];
        h = h * 31 + (uint32_t)v[i];
    }
    printf("ints sorted %d min %d max %d median %d hash %llx\n", sorted, v[0], v[N - 1], v[N / 2],
           (unsigned long long)h);
    for (int key = -50000; key < 50000; key += 9973) {
        int *f = bsearch(&key, v, N, sizeof v[0], cmp_int);
        printf("bsearch %d: %s\n", key, f ? "found" : "absent");
    }
    int present = v[1234];
    printf("bsearch present %d: %s\n", present,
           bsearch(&present, v, N, sizeof v[0], cmp_int) ? "found" : "absent");
    qsort(v, 20, sizeof v[0], cmp_int_desc);
    for (int i = 0; i < 20; i++)
        printf("%d ", v[i]);
    printf("\n");

    const char *words[] = {"pear", "apple", "fig", "banana", "kiwi", "cherry", "date", "grape",
                           "lemon", "mango", "apricot", "blueberry", "Zucchini", "avocado",
                           "lime", "", "melon", "nectarine", "orange", "papaya"};
    enum { W = sizeof words / sizeof words[0] };
    qsort(words, W, sizeof words[0], cmp_str);
    for (int i = 0; i < W; i++)
        printf("%s,", words[i]);
    printf("\n");
    const char *keys[] = {"kiwi", "lime", "zebra", "", "Zucchini", "apples"};
    for (int i = 0; i < 6; i++) {
        const char **f = bsearch(&keys[i], words, W, sizeof words[0], cmp_str);
        printf("%s=%ld ", keys[i], f ? (long)(f - words) : -1L);
    }
    printf("\n");

    enum { P = 500 };
    static struct person people[P];
    for (int i = 0; i < P; i++) {
        snprintf(people[i].name, sizeof people[i].name, "p%03u", rnd() % 1000);
        people[i].age = (int)(rnd() % 60) + 18;
        people[i].score = (double)(rnd() % 10000) / 100.0;
    }
    qsort(people, P, sizeof people[0], cmp_person);
    for (int i = 0; i < P; i += 37)
        printf("%s %d %.2f\n", people[i].name, people[i].age, people[i].score);
    struct person key = people[250];
    struct person *f = bsearch(&key, people, P, sizeof people[0], cmp_person);
    printf("person lookup %s\n", f && cmp_person(f, &key) == 0 ? "ok" : "missing");
    return 0;
}
