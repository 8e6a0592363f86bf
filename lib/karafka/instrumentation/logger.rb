# frozen_string_literal: true

module Karafka
  module Instrumentation
    # Karafka's logger class (`config.logger = Karafka::Instrumentation::Logger.new`): lines go
    # to $stdout and to `log/<Karafka.env>.log` under Karafka.root. The file and its directory
    # are made on the first line written, so a process that logs nothing leaves no `log/`;
    # when they cannot be made (a read-only root), lines go to $stdout alone. Its level
    # follows the environment, as Karafka's: ERROR in test, INFO otherwise.
    # (karafka-rs' default logger, when config.logger is not set, is a $stdout one.)
    class Logger < ::Logger
      # Where the lines go: $stdout (as it is when a line is written) and the log file.
      class Target
        # @param path [Pathname]
        def initialize(path)
          @path = path
          @mutex = Mutex.new
        end

        # @param line [String]
        def write(line)
          $stdout.write(line)
          @mutex.synchronize { file&.write(line) }
        end

        def close
          @mutex.synchronize do
            @file&.close
            @file = nil
          end
        end

        private

        # The file, opened on first use; nil (for good) when it cannot be.
        def file
          return @file if @file || @unwritable

          FileUtils.mkdir_p(@path.dirname)
          @file = File.open(@path, 'a').tap { |io| io.sync = true }
        rescue SystemCallError
          @unwritable = true
          nil
        end
      end

      def initialize(*_args)
        super(Target.new(Karafka.root.join('log', "#{Karafka.env}.log")))
        self.level = Karafka.env.test? ? ::Logger::ERROR : ::Logger::INFO
      end
    end
  end
end
