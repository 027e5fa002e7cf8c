// Symbol export macro for the statenet shared library.
#pragma once

#if defined(_WIN32)
#if defined(STATENET_BUILDING)
#define STATENET_API __declspec(dllexport)
#else
#define STATENET_API __declspec(dllimport)
#endif
#else
#define STATENET_API __attribute__((visibility("default")))
#endif
