// How the CPU attention's hot loops are compiled: once for AVX2 and once for baseline x86-64,
// the copy picked when the library loads (GCC's target_clones, an ifunc), so that
// libmforce_cpu still loads on any x86-64 while AVX2 machines get 8-wide vectors. Without FMA
// contraction (-ffp-contract=off) both copies round alike and give the same bits.
#ifndef MFORCE_CPU_ATTENTION_ISA_H
#define MFORCE_CPU_ATTENTION_ISA_H

#define MF_CPU_VECTORIZED __attribute__((target_clones("avx2", "default")))
// target_clones' ifunc escapes -fvisibility=hidden: declarations say it explicitly.
#define MF_CPU_HIDDEN __attribute__((visibility("hidden")))

#endif
