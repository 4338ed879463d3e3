/*
 * bcryptprimitives.dll for Wine prefixes that lack it (Wine 8 and older).
 *
 * Go's runtime on Windows (recent releases, Go 1.26 here) takes its random bytes from
 * ProcessPrng in bcryptprimitives.dll and aborts at start-up when the DLL or
 * the export is missing. Wine 8 ships no bcryptprimitives.dll, so Go test
 * binaries die before main. This DLL exports ProcessPrng and fills the buffer
 * with RtlGenRandom (advapi32!SystemFunction036), which Wine implements with the
 * host's random source.
 *
 * Built by scripts/wine-env.sh with x86_64-w64-mingw32-gcc and copied into the
 * prefix's windows/system32; never committed as a binary.
 */
#include <windows.h>

/* RtlGenRandom's real name; ntsecapi.h maps it with a macro that needs more headers. */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

/*
 * ProcessPrng never fails on Windows. Here RtlGenRandom could; FALSE tells Go so (its
 * runtime and crypto/rand both check the result and stop rather than use the buffer).
 * RtlGenRandom takes a ULONG length: big requests go in chunks.
 */
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG chunk = len > 0x40000000 ? 0x40000000 : (ULONG)len;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        len -= chunk;
    }
    return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved)
{
    (void)inst;
    (void)reason;
    (void)reserved;
    return TRUE;
}
