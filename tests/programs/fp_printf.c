/* Prints floats through printf, strtod, sqrt and float/double/integer conversions, and runs a
 * small loop that gcc vectorizes at -O3, and changes the rounding mode and reads the exception
 * flags through <fenv.h>; armature and qemu-aarch64 must print the same. */
#include <fenv.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static float a[64], b[64], c[64];
static double da[32], db[32];

__attribute__((noinline)) static void saxpy(float k, int n) {
    for (int i = 0; i < n; i++)
        c[i] = k * a[i] + b[i];
}

__attribute__((noinline)) static double dot(int n) {
    double s = 0;
    for (int i = 0; i < n; i++)
        s += da[i] * db[i];
    return s;
}

__attribute__((noinline)) static float vmax(int n) {
    float m = -INFINITY;
    for (int i = 0; i < n; i++)
        m = fmaxf(m, c[i]);
    return m;
}

static float q[64], r[64];
static double w[64];
static int iv[64];

/* Vector FDIV, FSQRT, FCVTL/FCVTN, SCVTF/FCVTZS, FABS, FNEG and compares at -O3: one simple
 * loop each, so the vectorizer takes them. */
#ifdef __clang__
#define NO_MATH_ERRNO
#else
#define NO_MATH_ERRNO __attribute__((optimize("no-math-errno")))
#endif

__attribute__((noinline)) NO_MATH_ERRNO static double mixed(int n) {
    for (int i = 0; i < n; i++)
        q[i] = sqrtf(fabsf(a[i]));
    for (int i = 0; i < n; i++)
        q[i] = q[i] / (b[i] + 0.5f);
    for (int i = 0; i < n; i++)
        w[i] = (double)q[i] * -1.25;
    for (int i = 0; i < n; i++)
        r[i] = (float)(w[i] / 3.0);
    for (int i = 0; i < n; i++)
        iv[i] = (int)(r[i] * 1000.0f);
    for (int i = 0; i < n; i++)
        iv[i] += a[i] > b[i] ? 7 : -7;
    for (int i = 0; i < n; i++)
        r[i] = -(r[i] + (float)iv[i]);
    for (int i = 0; i < n; i++)
        w[i] = fmin(w[i], (double)r[i]) + floor(w[i]);
    double s = 0;
    for (int i = 0; i < n; i++)
        s += r[i] + w[i] + iv[i];
    return s;
}

#ifdef __ARM_FEATURE_FP16_SCALAR_ARITHMETIC
static _Float16 h[64];

/* Half-precision arithmetic when the target has FEAT_FP16. */
__attribute__((noinline)) static float half(int n) {
    for (int i = 0; i < n; i++)
        h[i] = (_Float16)a[i] * (_Float16)0.75f + (_Float16)b[i];
    _Float16 m = 0;
    for (int i = 0; i < n; i++)
        m = h[i] > m ? h[i] : m;
    return (float)m + (float)h[n / 2];
}
#endif

/* FPCR rounding modes and FPSR flags through <fenv.h>. */
static void rounding_and_flags(void) {
    const int modes[] = {FE_TONEAREST, FE_UPWARD, FE_DOWNWARD, FE_TOWARDZERO};
    volatile double one = 1.0, three = 3.0, big = 1e308, tiny = 1e-310, zero = 0.0;
    for (int i = 0; i < 4; i++) {
        fesetround(modes[i]);
        feclearexcept(FE_ALL_EXCEPT);
        double q = one / three;
        printf("mode %d: %a %a %g %g %ld %a flags %x", i, q, -one / three, rint(2.5), nearbyint(-2.5),
               lrint(-7.5), (float)q, fetestexcept(FE_ALL_EXCEPT));
        feclearexcept(FE_ALL_EXCEPT);
        volatile double o = big * 10, u = tiny / 3, d = one / zero, n = zero / zero;
        printf(" %g %g %g %g flags %x\n", o, u, d, n, fetestexcept(FE_ALL_EXCEPT));
    }
    fesetround(FE_TONEAREST);
}

int main(int argc, char **argv) {
    volatile double x = 1.0 / 3.0, y = -2.5e-310, z = 1e300;
    volatile float f = 0.1f;
    printf("%f %g %e %.17g\n", x, x, x, x);
    printf("%f %g %e %.17g\n", y, y, y, y);
    printf("%f %g %e %.17g\n", z * 10, z, z, -z);
    printf("%f %g %a %.9g\n", f, f, (double)f, f);
    const char *in[] = {"3.14159", "-0.0", "1e-320", "inf", "nan", "0x1.8p3", "123456789012345678901234567890", "2.2250738585072011e-308"};
    for (int i = 0; i < 8; i++) {
        double d = strtod(in[i], NULL);
        float g = strtof(in[i], NULL);
        printf("%s -> %.17g %.9g %a\n", in[i], d, g, d);
    }
    for (int i = 0; i < 10; i++) {
        double d = i * 1.7 - 5.3;
        printf("sqrt %.17g %.9g floor %g ceil %g round %g trunc %g rint %g lround %ld\n",
               sqrt(fabs(d)), sqrtf((float)fabs(d)), floor(d), ceil(d), round(d), trunc(d), rint(d), lround(d));
        printf("conv %d %u %lld %llu %f %f\n", (int)d, (unsigned)(d > 0 ? d : -d), (long long)(d * 1e12),
               (unsigned long long)(d * d * 1e15), (double)(int)(d * 7), (double)(float)(d / 3));
    }
    printf("fma %.17g pow %.17g exp %.17g log %.17g sin %.17g atan2 %.17g\n", fma(x, 3.0, -1.0), pow(2.0, 0.5), exp(x), log(x), sin(x), atan2(x, -1.0));
    printf("f %.9g %.9g %.9g %.9g\n", expf(f), logf(f), sinf(f), powf(f, 3.3f));
    for (int i = 0; i < 64; i++) {
        a[i] = i * 0.25f - 3;
        b[i] = 1.0f / (i + 1);
    }
    for (int i = 0; i < 32; i++) {
        da[i] = i * 1.5 - 7;
        db[i] = 1.0 / (i + 0.5);
    }
    saxpy(1.5f + argc, 61);
    double s = 0;
    for (int i = 0; i < 64; i++)
        s += c[i];
    printf("saxpy %.9g %.9g %.9g sum %.17g max %.9g dot %.17g\n", c[0], c[30], c[60], s, vmax(61), dot(29));
    printf("mixed %.17g %.9g %d\n", mixed(61), r[17], iv[40]);
#ifdef __ARM_FEATURE_FP16_SCALAR_ARITHMETIC
    printf("half %.9g\n", half(61));
#endif
    rounding_and_flags();
    printf("%5.2f|%-10.3e|%+g|%G|%08.3f\n", -x, x * 1e-7, 0.0, 1e-10, 3.14159);
    return 0;
}
