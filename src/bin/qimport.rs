fn main() -> std::process::ExitCode {
    qtools::cmd::qimport::main()
}
