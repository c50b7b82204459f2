// glibc's malloc is a measurable share of an export: the driver allocates every value of
// every row (see BENCHMARKS.md); mimalloc's fast path is several times shorter.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    qtools::cmd::qimport::main()
}
