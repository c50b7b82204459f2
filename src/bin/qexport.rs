fn main() -> std::process::ExitCode {
    qtools::cmd::qexport::main()
}
