; Inno Setup 6 script for SDV Studio on Windows: installs the PyInstaller folder (dist\sdv-studio),
; a Start menu entry for the windowed program and, if ticked, the sdv-studio command on the user's PATH.
; Build from the repository root after PyInstaller and make_icons.py:
;   iscc /DAppVersion=X.Y.Z packaging\windows\sdv-studio.iss
; Relative paths below are from this file's folder.

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif

[Setup]
AppId={{5C2E8E0B-6A4F-4F4B-9E7A-2D51B7C1A9E3}
AppName=SDV Studio
AppVersion={#AppVersion}
AppPublisher=SDV Studio developers
DefaultDirName={autopf}\SDV Studio
DefaultGroupName=SDV Studio
DisableProgramGroupPage=yes
; Per-user by default, so no administrator is needed; the dialog offers all users.
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist
OutputBaseFilename=sdv-studio-{#AppVersion}-windows-x64-setup
SetupIconFile=..\..\build\icons\sdv-studio.ico
UninstallDisplayIcon={app}\sdv-studio-gui.exe
Compression=lzma2
SolidCompression=yes
WizardStyle=modern
ChangesEnvironment=yes

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked
Name: "addtopath"; Description: "Add the sdv-studio command to PATH"; Flags: unchecked

[Files]
Source: "..\..\dist\sdv-studio\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\SDV Studio"; Filename: "{app}\sdv-studio-gui.exe"
Name: "{autodesktop}\SDV Studio"; Filename: "{app}\sdv-studio-gui.exe"; Tasks: desktopicon

[Registry]
Root: HKCU; Subkey: "Environment"; ValueType: expandsz; ValueName: "Path"; ValueData: "{olddata};{app}"; \
    Tasks: addtopath; Check: NotOnPath(ExpandConstant('{app}'))

; "Open in SDV Studio" links (sdv-studio://open?…) start the program with the link as its argument.
Root: HKA; Subkey: "Software\Classes\sdv-studio"; ValueType: string; ValueName: ""; ValueData: "URL:SDV Studio link"; \
    Flags: uninsdeletekey
Root: HKA; Subkey: "Software\Classes\sdv-studio"; ValueType: string; ValueName: "URL Protocol"; ValueData: ""
Root: HKA; Subkey: "Software\Classes\sdv-studio\DefaultIcon"; ValueType: string; ValueName: ""; \
    ValueData: "{app}\sdv-studio-gui.exe,0"
Root: HKA; Subkey: "Software\Classes\sdv-studio\shell\open\command"; ValueType: string; ValueName: ""; \
    ValueData: """{app}\sdv-studio-gui.exe"" ""%1"""

[Run]
Filename: "{app}\sdv-studio-gui.exe"; Description: "{cm:LaunchProgram,SDV Studio}"; Flags: nowait postinstall skipifsilent

[Code]
function NotOnPath(Dir: string): Boolean;
var
  Path: string;
begin
  if not RegQueryStringValue(HKEY_CURRENT_USER, 'Environment', 'Path', Path) then
    Path := '';
  Result := Pos(';' + Uppercase(Dir) + ';', ';' + Uppercase(Path) + ';') = 0;
end;
