; Inno Setup script: the Lightbox installer for Windows reading stations.
;
; Build (on Windows, after PyInstaller made dist\Lightbox; see docs/windows-build.md):
;   iscc /DAppVersion=0.1.0 /DDistDir=..\..\dist\Lightbox packaging\windows\lightbox.iss
;
; Per-machine install into Program Files, Start-menu shortcut, optional site
; settings (C:\ProgramData\Lightbox\config.json), a note on the firewall rule the
; storage SCP port needs, and an uninstaller that keeps every user's study cache
; and settings unless asked to remove them.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#ifndef DistDir
  #define DistDir "..\..\dist\Lightbox"
#endif
#ifndef StoragePort
  #define StoragePort "11112"
#endif

[Setup]
AppId={{6B1C2E4A-7D3F-4B8E-9A51-3C0F2D7E8B14}
AppName=Lightbox
AppVersion={#AppVersion}
AppPublisher=Lightbox contributors
AppComments=Diagnostic reading workstation for DICOM studies
DefaultDirName={autopf}\Lightbox
DefaultGroupName=Lightbox
; Per machine: needs administrator rights, installs for every user of the station.
PrivilegesRequired=admin
PrivilegesRequiredOverridesAllowed=
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputBaseFilename=lightbox-{#AppVersion}-windows-x64-setup
OutputDir=..\..\dist
SetupIconFile=..\..\resources\icons\lightbox.ico
UninstallDisplayIcon={app}\LightboxViewer.exe
Compression=lzma2
SolidCompression=yes
WizardStyle=modern
InfoAfterFile=firewall-note.txt
ChangesEnvironment=no

[Tasks]
Name: "desktopicon"; Description: "Create a desktop shortcut"; GroupDescription: "Shortcuts:"; Flags: unchecked

[Files]
Source: "{#DistDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs
Source: "..\..\docs\conformance.md"; DestDir: "{app}\docs"; Flags: ignoreversion
Source: "firewall-note.txt"; DestDir: "{app}\docs"; Flags: ignoreversion
; Site settings: IT passes /SITECONFIG="path\to\config.json" to the installer (silent installs too).
Source: "{param:SITECONFIG}"; DestDir: "{commonappdata}\Lightbox"; DestName: "config.json"; \
    Flags: external skipifsourcedoesntexist onlyifdoesntexist uninsneveruninstall; Check: HasSiteConfig

[Icons]
Name: "{group}\Lightbox"; Filename: "{app}\LightboxViewer.exe"; WorkingDir: "{app}"
Name: "{group}\Lightbox demo"; Filename: "{app}\LightboxViewer.exe"; Parameters: "demo"; WorkingDir: "{app}"
Name: "{group}\Lightbox command prompt"; Filename: "{cmd}"; Parameters: "/k ""{app}\lightbox.exe"" --version"; WorkingDir: "{app}"
Name: "{group}\Uninstall Lightbox"; Filename: "{uninstallexe}"
Name: "{autodesktop}\Lightbox"; Filename: "{app}\LightboxViewer.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\LightboxViewer.exe"; Description: "Start Lightbox"; Flags: nowait postinstall skipifsilent unchecked

[UninstallDelete]
Type: filesandordirs; Name: "{app}"

[Code]
var
  RemoveUserData: Boolean;

function HasSiteConfig: Boolean;
begin
  Result := ExpandConstant('{param:SITECONFIG}') <> '';
end;

function InitializeUninstall: Boolean;
begin
  { The study cache can hold gigabytes of patient data that is not on the PACS yet
    (unsent reports): keep it unless the administrator asks. Silent: /REMOVEUSERDATA=1 }
  RemoveUserData := ExpandConstant('{param:REMOVEUSERDATA|0}') = '1';
  if (not RemoveUserData) and (not UninstallSilent) then
    RemoveUserData := MsgBox('Also remove the study cache, settings and logs of the user running the uninstaller ' +
      '(%LOCALAPPDATA%\Lightbox)?' + #13#10#13#10 +
      'Answer No to keep them (recommended: the cache may hold reports not yet delivered).',
      mbConfirmation, MB_YESNO or MB_DEFBUTTON2) = IDYES;
  Result := True;
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
begin
  if (CurUninstallStep = usPostUninstall) and RemoveUserData then
    DelTree(ExpandConstant('{localappdata}\Lightbox'), True, True, True);
end;
