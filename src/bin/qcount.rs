fn main() -> std::process::ExitCode {
    qtools::cmd::qcount::main()
}
