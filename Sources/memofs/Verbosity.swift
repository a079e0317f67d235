import Logging

/// How much the log says: `-v` adds peer connections, disconnects and stalls (debug),
/// `-vv` everything (trace).
enum Verbosity {
    static func level(_ count: Int, quiet: Logger.Level) -> Logger.Level {
        switch count {
        case 0: quiet
        case 1: min(quiet, .debug)
        default: .trace
        }
    }

    /// Logs of every part of memofs to standard error (the log file for a background mount).
    static func bootstrap(level: Logger.Level) {
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
    }
}
