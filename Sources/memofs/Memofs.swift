import ArgumentParser
import Foundation
import TorrentModel
#if canImport(Glibc)
import Glibc
#endif

@main
struct Memofs: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memofs",
        abstract: "Sync recordings between devices and people over BitTorrent, through a FUSE mount.",
        version: MemofsVersion.current,
        subcommands: [Mount.self, Status.self, Download.self, Seed.self, Create.self, Info.self, Magnet.self, Pin.self, Unpin.self]
    )

    /// What a runtime failure's message starts with, on standard error (and in the log of a
    /// background daemon, where the command that started it looks for it).
    static let errorPrefix = "memofs: "

    /// ArgumentParser's `main`, split in two: a mistake in the command line gets its message,
    /// a usage line and exit status 64; a command that fails while running gets
    /// `memofs: <what went wrong>` and exit status 1, with no usage line, as nothing was
    /// wrong with how it was typed.
    static func main() async {
        let command: ParsableCommand
        do {
            command = try await asyncParseAsRoot()
        } catch {
            exit(withError: error)
        }
        // --help and the like parse into ArgumentParser's own commands, which report through it.
        let ours = ([Memofs.self] + configuration.subcommands).contains { ObjectIdentifier($0) == ObjectIdentifier(type(of: command)) }
        do {
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                var command = command
                try command.run()
            }
        } catch let error where !ours || error is ExitCode || error is CleanExit {
            exit(withError: error)
        } catch let error as ValidationError {
            fail(error.message)
        } catch {
            fail(MemofsError.describe(error))
        }
    }

    static func fail(_ message: String) -> Never {
        FileHandle.standardError.write(Data((errorPrefix + message + "\n").utf8))
        Glibc.exit(1)
    }
}

enum MemofsVersion {
    static let current = "0.1.0"
}

struct Create: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Make a .torrent of a file or folder and print its magnet link.")

    @Argument(help: "The file or folder to share.") var path: String
    @Option(name: .shortAndLong, help: "Where to write the .torrent (default: <name>.torrent here).") var output: String?
    @Option(name: .customLong("tracker"), help: "A tracker URL (repeatable; each is its own tier).") var trackers: [String] = []
    @Option(help: "A comment to store in the torrent.") var comment: String?
    @Option(help: "Piece length in bytes (a power of two, 16 KiB to 16 MiB; default: as libtorrent picks).")
    var pieceLength: Int?

    func run() async throws {
        let options = TorrentCreator.Options(pieceLength: pieceLength, comment: comment,
                                             createdBy: "memofs \(MemofsVersion.current)",
                                             trackers: trackers.map { [$0] })
        let metainfo = try await TorrentCreator.create(from: path, options: options)
        let target = output ?? metainfo.info.name + ".torrent"
        try writeFile(target, metainfo.encoded())
        print(MagnetLink(metainfo: metainfo).uri)
    }
}

struct Info: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check a .torrent file and print what it holds.")

    @Argument(help: "The .torrent file.") var path: String

    func run() async throws {
        let metainfo = try readTorrent(path)
        let info = metainfo.info
        print("info hash:    \(info.infoHash)")
        print("name:         \(info.name)")
        print("size:         \(info.totalLength) bytes in \(info.pieceCount) pieces of \(info.pieceLength)")
        if info.isPrivate { print("private:      yes") }
        for tier in metainfo.trackerTiers { print("tracker tier: \(tier.joined(separator: " "))") }
        for seed in metainfo.urlList { print("web seed:     \(seed)") }
        if let comment = metainfo.comment { print("comment:      \(comment)") }
        if let createdBy = metainfo.createdBy { print("created by:   \(createdBy)") }
        if let date = metainfo.creationDate { print("created:      \(date) (seconds since 1970)") }
        for file in info.files where !file.isPadding { print("file:         \(file.pathString) (\(file.length) bytes)") }
        print("magnet:       \(MagnetLink(metainfo: metainfo).uri)")
    }
}

struct Magnet: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check a magnet link or share link and print what it holds.")

    @Argument(help: "A magnet link, or a share URL with seeds=<magnet>.") var link: String

    func run() async throws {
        for magnet in try MagnetLink.parseLinks(link) {
            print("info hash: \(magnet.infoHash)")
            if let name = magnet.displayName { print("name:      \(name)") }
            if let length = magnet.exactLength { print("length:    \(length)") }
            for tracker in magnet.trackers { print("tracker:   \(tracker)") }
            for seed in magnet.webSeeds { print("web seed:  \(seed)") }
            for peer in magnet.peers { print("peer:      \(peer)") }
            print("magnet:    \(magnet.uri)")
        }
    }
}

