/* Prints argc, argv and selected environment variables, and changes the environment.
 * args: one "two words" --three=3 ""
 * stdin: first line of input\nsecond line\n
 * exit: 5 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv, char **envp) {
    printf("argc %d\n", argc);
    for (int i = 1; i < argc; i++)
        printf("argv[%d] = \"%s\" (%zu)\n", i, argv[i], strlen(argv[i]));
    printf("argv[argc] is null: %d\n", argv[argc] == NULL);
    int n = 0;
    for (char **e = envp; *e; e++)
        n += strncmp(*e, "ARMATURE_TEST_", 14) == 0;
    printf("ARMATURE_TEST_ variables %d\n", n);
    const char *v = getenv("ARMATURE_TEST_VALUE");
    printf("ARMATURE_TEST_VALUE=%s\n", v ? v : "(unset)");
    printf("missing=%s\n", getenv("ARMATURE_SURELY_UNSET") ? "set" : "(unset)");
    setenv("ARMATURE_NEW", "fresh", 1);
    setenv("ARMATURE_TEST_VALUE", "replaced", 0);
    printf("new=%s kept=%s\n", getenv("ARMATURE_NEW"), getenv("ARMATURE_TEST_VALUE"));
    unsetenv("ARMATURE_NEW");
    printf("after unset=%s\n", getenv("ARMATURE_NEW") ? "set" : "(unset)");
    char line[128];
    int lines = 0;
    while (fgets(line, sizeof line, stdin)) {
        lines++;
        printf("stdin: %s", line);
    }
    printf("stdin lines %d\n", lines);
    return argc;
}
