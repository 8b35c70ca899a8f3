"""Where findings go. Every sink implements `Sink`; mappers are pure, publishers thin."""
