fn main() -> std::process::ExitCode {
    qtools::cmd::qgrep::main()
}
